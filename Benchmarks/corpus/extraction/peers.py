#!/usr/bin/env python3
"""The Python extractors the benchmark compares with: iocextract and ioc-finder.

    pip install iocextract ioc-finder
    python3 peers.py corpus.jsonl [--sample-bytes N]

Prints JSON lines: for each tool and document `{"tool", "doc", "found": [{"type", "value"}]}`,
then for each tool `{"tool", "bytes", "seconds"}`, the time to extract from a sample of the
corpus (the documents joined until N bytes, one call per document, single-threaded).

Fairness: each tool is asked for what the task asks (URLs need a scheme, so ioc-finder's
`parse_urls_without_scheme` is off; its `parse_unicode_iocs` is on, for IDN; iocextract refangs
and strips trailing garbage from URLs), and its values are normalised as Automator's are
(refanged scheme, lower-case host in A-label form, RFC 5952 IPv6, lower-case hashes and e-mail
addresses, upper-case CVE), so that only what was found, and where it stops, is compared. A
type a tool does not extract (iocextract: domains and CVE; ioc-finder: SHA-512) is not counted
against it.
"""
import ipaddress
import json
import re
import sys
import time
import urllib.parse

import iocextract
import ioc_finder

TYPES = ["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "cve"]
SUPPORTED = {"iocextract": {"ipv4", "ipv6", "url", "email", "md5", "sha1", "sha256", "sha512"},
             "ioc-finder": set(TYPES) - {"sha512"}}  # ioc-finder 9.4 has no SHA-512


def a_label(host):
    labels = []
    for label in host.lower().rstrip(".").split("."):
        try:
            labels.append(label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii"))
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


def ipv6_text(value):
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError:
        return value.lower()
    if address.ipv4_mapped:
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


def normalise(kind, value):
    if kind == "url":
        match = re.match(r"(?i)^(hxxps?|https?|s?ftps?|fxp)(?:\[:\]|:)//(?:\[\.\])?([^/?#]*)(.*)$", value, re.S)
        if not match:
            return value
        scheme, authority, rest = match.groups()
        scheme = {"hxxp": "http", "hxxps": "https", "fxp": "ftp"}.get(scheme.lower(), scheme.lower())
        user, at, hostport = authority.rpartition("@")
        if hostport.startswith("["):
            host, _, port = hostport[1:].partition("]")
            host = "[" + ipv6_text(host) + "]"
        else:
            host, colon, port = hostport.partition(":")
            host, port = a_label(host), colon + port
        return f"{scheme}://{user}{at}{host}{port}{rest}"
    if kind == "domain":
        return a_label(value)
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return local.lower() + "@" + a_label(domain)
    if kind == "ipv6":
        return ipv6_text(value)
    if kind in ("md5", "sha1", "sha256", "sha512"):
        return value.lower()
    if kind == "cve":
        return value.upper()
    return value


def run_iocextract(text):
    found = [("url", u) for u in iocextract.extract_urls(text, refang=True, strip=True)]
    found += [("email", e) for e in iocextract.extract_emails(text, refang=True)]
    found += [("ipv4", ip) for ip in iocextract.extract_ipv4s(text, refang=True)]
    found += [("ipv6", ip) for ip in iocextract.extract_ipv6s(text)]
    for kind, extract in (("md5", iocextract.extract_md5_hashes), ("sha1", iocextract.extract_sha1_hashes),
                          ("sha256", iocextract.extract_sha256_hashes), ("sha512", iocextract.extract_sha512_hashes)):
        found += [(kind, h) for h in extract(text)]
    return found


FINDER_KEYS = {"urls": "url", "domains": "domain", "email_addresses": "email", "ipv4s": "ipv4", "ipv6s": "ipv6",
               "md5s": "md5", "sha1s": "sha1", "sha256s": "sha256", "sha512s": "sha512", "cves": "cve"}


def run_ioc_finder(text):
    result = ioc_finder.find_iocs(text, parse_urls_without_scheme=False, parse_unicode_iocs=True)
    return [(kind, value) for key, kind in FINDER_KEYS.items() for value in result.get(key, [])]


TOOLS = {"iocextract": run_iocextract, "ioc-finder": run_ioc_finder}


def main():
    path = sys.argv[1]
    sample_bytes = int(sys.argv[sys.argv.index("--sample-bytes") + 1]) if "--sample-bytes" in sys.argv else 200_000
    docs = [json.loads(line)["text"] for line in open(path, encoding="utf-8") if line.strip()]
    for tool, run in TOOLS.items():
        for index, text in enumerate(docs):
            found = dict.fromkeys((kind, normalise(kind, value)) for kind, value in run(text))
            print(json.dumps({"tool": tool, "doc": index,
                              "found": [{"type": k, "value": v} for k, v in found]}, ensure_ascii=False))
    sample, size = [], 0
    while size < sample_bytes:
        for text in docs:
            sample.append(text)
            size += len(text.encode("utf-8"))
            if size >= sample_bytes:
                break
    for tool, run in TOOLS.items():
        start = time.perf_counter()
        for text in sample:
            run(text)
        print(json.dumps({"tool": tool, "bytes": size, "seconds": time.perf_counter() - start,
                          "types": sorted(SUPPORTED[tool])}))


if __name__ == "__main__":
    main()
