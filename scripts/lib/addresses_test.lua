-- Tests of lib/addresses.lua. Run them with:
--
--   automator test scripts/lib/addresses_test.lua

local addresses = require("lib.addresses")

test("private, loopback and link-local addresses are internal, v4 and v6", function()
  for _, ip in ipairs({ "10.20.4.31", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.169.254",
                        "::1", "fd12:3456::1", "fc00::1", "fe80::1" }) do
    expect.equal(addresses.internal(ip), true, ip)
  end
end)

test("public addresses, names and nothing are not", function()
  for _, ip in ipairs({ "198.51.100.7", "172.32.0.1", "11.0.0.1", "2001:db8::1", "fd.example.com", "face.example.net" }) do
    expect.equal(addresses.internal(ip), false, ip)
  end
  expect.equal(addresses.internal(nil), false)
end)
