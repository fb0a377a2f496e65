-- Tests of lib/sigv4.lua against AWS's Signature Version 4 test suite (AWS General Reference,
-- "Signature Version 4 test suite"): its example credentials, region us-east-1, service "service",
-- 2015-08-30 12:36:00 UTC, and the signatures it publishes. Run them with:
--
--   automator test scripts/lib/sigv4_test.lua

local sigv4 = require("lib.sigv4")

-- The suite's example credentials and session token.
local SUITE = {
  access_key_id = "AKIDEXAMPLE",
  secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  region = "us-east-1",
  service = "service",
  time = "20150830T123600Z",
}
local SESSION_TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqT"
  .. "flfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8T"
  .. "x6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJa"
  .. "bIQwj2ICCR/oLxBA=="

--- The headers sigv4.sign gives for the suite's request `request`.
local function signed(request)
  for key, value in pairs(SUITE) do request[key] = request[key] or value end
  return sigv4.sign(request)
end

--- The Authorization header the suite publishes for `signed_headers` and `signature`.
local function authorization(signed_headers, signature)
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="
    .. signed_headers .. ", Signature=" .. signature
end

test("get-vanilla: GET / with no body", function()
  local headers = signed{ method = "GET", url = "https://example.amazonaws.com/" }

  expect.equal(headers.authorization, authorization("host;x-amz-date",
    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
  expect.equal(headers.host, "example.amazonaws.com")
  expect.equal(headers["x-amz-date"], "20150830T123600Z")
end)

test("post-x-www-form-urlencoded: a form body and its content type are signed", function()
  local headers = signed{ method = "POST", url = "https://example.amazonaws.com/", body = "Param1=value1",
                          headers = { ["Content-Type"] = "application/x-www-form-urlencoded" } }

  expect.equal(headers.authorization, authorization("content-type;host;x-amz-date",
    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"))
end)

test("get-vanilla-query-order-key-case and post-vanilla-query: the query's pairs are signed in order", function()
  local unordered = signed{ method = "GET", url = "https://example.amazonaws.com/?Param2=value2&Param1=value1" }
  local query = signed{ method = "POST", url = "https://example.amazonaws.com/?Param1=value1" }

  expect.equal(unordered.authorization, authorization("host;x-amz-date",
    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
  expect.equal(query.authorization, authorization("host;x-amz-date",
    "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"))
end)

test("post-sts-header-before: temporary credentials sign their session token as x-amz-security-token", function()
  local headers = signed{ method = "POST", url = "https://example.amazonaws.com/", session_token = SESSION_TOKEN }

  expect.equal(headers.authorization, authorization("host;x-amz-date;x-amz-security-token",
    "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"))
  expect.equal(headers["x-amz-security-token"], SESSION_TOKEN)
end)

test("a time in seconds is the UTC stamp; a URL that is not HTTP is refused", function()
  -- 2015-08-30 12:36:00 UTC.
  local headers = signed{ method = "GET", url = "https://example.amazonaws.com/", time = 1440938160 }

  expect.equal(headers["x-amz-date"], "20150830T123600Z")
  expect.equal(headers.authorization, authorization("host;x-amz-date",
    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
  expect.error(function() signed{ method = "GET", url = "ftp://example.amazonaws.com/" } end,
    "sigv4.sign: the url must be http:// or https://, got ftp://example.amazonaws.com/")
end)
