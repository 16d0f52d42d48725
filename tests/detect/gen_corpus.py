#!/usr/bin/env python3
"""Labelled corpus for the free-text detectors: JSON lines of {"text", "locale", "spans",
"negative"}, where spans are byte offsets (UTF-8) of every PII value with its type, and
"negative" names the look-alike a hard-negative record holds (no spans then).

Deterministic by --seed; steward's own templates in en_US en_GB de fr es_MX pt_BR ko ja
es_ES it nl. Usage: gen_corpus.py [--seed N] [--records N] [--negatives SHARE]"""
import argparse
import json
import random
import sys

LOCALES = ["en_US", "en_GB", "de", "fr", "es_MX", "pt_BR", "ko", "ja", "es_ES", "it", "nl"]

# ---- values ------------------------------------------------------------------------------


def luhn_digit(body):
    s = 0
    for i, ch in enumerate(reversed(body)):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        s += v
    return str((10 - s % 10) % 10)


def digits(r, n):
    return "".join(r.choice("0123456789") for _ in range(n))


def card(r):
    kind = r.choice(["visa", "visa", "mc", "mc2", "amex", "disc", "jcb", "diners", "unionpay"])
    pre, n = {
        "visa": ("4", 16), "mc": (str(r.randint(51, 55)), 16),
        "mc2": (str(r.randint(2221, 2720)), 16), "amex": (r.choice(["34", "37"]), 15),
        "disc": (r.choice(["6011", "65"]), 16), "jcb": (str(r.randint(3528, 3589)), 16),
        "diners": (r.choice(["36", "38", "300"]), 14), "unionpay": ("62", 16),
    }[kind]
    body = pre + digits(r, n - len(pre) - 1)
    num = body + luhn_digit(body)
    style = r.random()
    if n == 15 and style < 0.5:
        return num[:4] + " " + num[4:10] + " " + num[10:]
    if n == 14 and style < 0.4:
        return num[:4] + " " + num[4:10] + " " + num[10:]
    if style < 0.35:
        return num
    sep = r.choice([" ", " ", "-"])
    return sep.join(num[i:i + 4] for i in range(0, n, 4))


IBAN_FORMATS = {  # country: BBAN as (kind, count) pieces, n digits / a upper letters / c alnum
    "DE": [("n", 18)], "FR": [("n", 10), ("c", 11), ("n", 2)], "GB": [("a", 4), ("n", 14)],
    "ES": [("n", 20)], "IT": [("a", 1), ("n", 10), ("c", 12)], "NL": [("a", 4), ("n", 10)],
    "BE": [("n", 12)], "PT": [("n", 21)], "AT": [("n", 16)], "CH": [("n", 5), ("c", 12)],
    "PL": [("n", 24)], "BR": [("n", 23), ("a", 1), ("c", 1)], "SE": [("n", 20)],
    "IE": [("a", 4), ("n", 14)], "LU": [("n", 3), ("c", 13)], "NO": [("n", 11)],
}


def iban_check(cc, bban):
    s = bban + cc + "00"
    v = int("".join(str(int(ch, 36)) for ch in s))
    return "%02d" % (98 - v % 97)


def iban(r, cc=None):
    cc = cc or r.choice(list(IBAN_FORMATS))
    bban = ""
    for kind, n in IBAN_FORMATS[cc]:
        pool = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[kind]
        bban += "".join(r.choice(pool) for _ in range(n))
    s = cc + iban_check(cc, bban) + bban
    if r.random() < 0.5:
        return s
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def ipv4(r):
    a = r.choice([r.randint(1, 9), r.randint(11, 126), r.randint(128, 223)])
    return "%d.%d.%d.%d" % (a, r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))


def ipv6(r):
    g = ["%x" % r.randint(0, 0xffff) for _ in range(8)]
    g[0] = r.choice(["2001", "2a02", "2600", "fe80", "2a00", "2404", "2c0f"])
    style = r.random()
    if style < 0.3:
        s = ":".join(g)
    elif style < 0.8:
        i = r.randint(1, 5)
        j = r.randint(i + 1, 7)
        s = ":".join(g[:i]) + "::" + ":".join(g[j:])
    else:
        s = g[0] + ":" + g[1] + "::" + g[7]
    return s.upper() if r.random() < 0.15 else s


def ssn(r, style=None):
    area = r.randint(1, 899)
    while area == 666:
        area = r.randint(1, 899)
    d = "%03d%02d%04d" % (area, r.randint(1, 99), r.randint(1, 9999))
    style = style or r.choice(["-", "-", " ", ""])
    return d[:3] + style + d[3:5] + style + d[5:] if style else d


def krrn(r, style=None):
    year = r.randint(1940, 2023)
    month, day = r.randint(1, 12), r.randint(1, 28)
    g = (1 if year < 2000 else 3) + r.randint(0, 1)
    if r.random() < 0.1:
        g += 4  # foreign residents
    d = "%02d%02d%02d%d%s" % (year % 100, month, day, g, digits(r, 5))
    if year < 2020:
        w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
        d += str((11 - sum(int(d[i]) * w[i] for i in range(12)) % 11) % 10)
    else:
        d += digits(r, 1)  # issued since October 2020: no check digit
    style = style if style is not None else r.choice(["-", "-", "-", " ", ""])
    return d[:6] + style + d[6:] if style else d


FW = str.maketrans("0123456789-", "０１２３４５６７８９－")

PHONES = {
    "en_US": lambda r: r.choice([
        "({a}) {e}-{l}", "{a}-{e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}", "+1-{a}-{e}-{l}",
        "1-{a}-{e}-{l}", "{a} {e} {l}"]).format(
        a=r.choice(["212", "415", "312", "617", "713", "305", "206", "303", "404", "702",
                    "646", "718", "510", "503"]),
        e=str(r.randint(2, 9)) + digits(r, 2), l=digits(r, 4)),
    "en_GB": lambda r: r.choice([
        "07{m} {x}", "+44 7{m} {x}", "020 7{y} {z}", "+44 20 7{y} {z}", "0161 {q} {z}",
        "07{m}{x}", "(020) 7{y} {z}"]).format(
        m=r.choice(["400", "911", "812", "507", "970", "787"]), x=digits(r, 6),
        y=digits(r, 3), z=digits(r, 4), q=str(r.randint(2, 9)) + digits(r, 2)),
    "de": lambda r: r.choice([
        "030 {x7}", "(030) {x8}", "+49 30 {x7}", "0049 30 {x8}", "0171/{x7}", "0151 {x8}",
        "+49 171 {x7}", "089 {x8}", "+49 (0)30 {x7}", "0171-{x7}", "040 {x7}"]).format(
        x7=str(r.randint(2, 9)) + digits(r, 6), x8=str(r.randint(2, 9)) + digits(r, 7)),
    "fr": lambda r: r.choice([
        "0{p} {a} {b} {c} {d}", "0{p}{a}{b}{c}{d}", "+33 {p} {a} {b} {c} {d}",
        "0{p}.{a}.{b}.{c}.{d}", "+33 (0){p} {a} {b} {c} {d}", "0033 {p} {a} {b} {c} {d}"]).format(
        p=r.choice(["6", "6", "1", "4", "5", "2"]), a="%02d" % r.randint(10, 99),
        b=digits(r, 2), c=digits(r, 2), d=digits(r, 2)),
    "es_MX": lambda r: r.choice([
        "{a} {b} {c}", "+52 {a} {b} {c}", "({a}) {b}-{c}", "+52 ({a}) {b} {c}", "{a}-{b}-{c}",
        "{a}{b}{c}"]).format(a=r.choice(["55", "33", "81"]), b=str(r.randint(1, 9)) + digits(r, 3),
                             c=digits(r, 4)),
    "pt_BR": lambda r: r.choice([
        "({a}) 9{b}-{c}", "{a} 9{b}-{c}", "+55 {a} 9{b}-{c}", "+55 ({a}) 9{b}-{c}",
        "({a}) {l}-{c}", "0{a} 9{b} {c}"]).format(
        a=r.choice(["11", "21", "31", "41", "51", "61", "71", "81"]),
        b=str(r.randint(6, 9)) + digits(r, 3), c=digits(r, 4), l=str(r.randint(2, 5)) + digits(r, 3)),
    "ko": lambda r: r.choice([
        "010-{b}-{c}", "010 {b} {c}", "010{b}{c}", "+82 10-{b}-{c}", "+82-10-{b}-{c}",
        "02-{s}-{c}", "031-{s}-{c}", "051-{s}-{c}"]).format(
        b=str(r.randint(2, 9)) + digits(r, 3), c=digits(r, 4), s=str(r.randint(2, 9)) + digits(r, 2)),
    "ja": lambda r: r.choice([
        "090-{b}-{c}", "080-{b}-{c}", "03-{b}-{c}", "06-{b}-{c}", "+81 90-{b}-{c}",
        "+81-3-{b}-{c}", "09012345678", "FW"]).format(
        b=str(r.randint(1, 9)) + digits(r, 3), c=digits(r, 4)),
}
PHONES["ja"] = (lambda base: lambda r: (lambda s: (
    ("090-%s-%s" % (str(r.randint(1, 9)) + digits(r, 3), digits(r, 4))).translate(FW)
    if s == "FW" else ("090" + digits(r, 8) if s == "09012345678" else s)))(base(r)))(PHONES["ja"])
PHONES["es_ES"] = lambda r: "+34 6%s %s %s" % (digits(r, 2), digits(r, 3), digits(r, 3))
PHONES["it"] = lambda r: "+39 3%s %s %s" % (r.choice(["20", "33", "47", "49"]), digits(r, 3), digits(r, 4))
PHONES["nl"] = lambda r: "+31 6 %s %s" % (str(r.randint(1, 5)) + digits(r, 3), digits(r, 4))

FIRST = {
    "en_US": ["james", "mary", "john", "linda", "michael"], "en_GB": ["oliver", "amelia", "harry", "isla"],
    "de": ["lukas", "anna", "jonas", "lea", "felix"], "fr": ["lucas", "chloe", "hugo", "manon"],
    "es_MX": ["santiago", "sofia", "mateo", "valentina"], "pt_BR": ["joao", "maria", "pedro", "ana"],
    "ko": ["jiho", "minjun", "seoyeon", "hayun"], "ja": ["haruto", "yui", "sota", "hina"],
    "es_ES": ["hugo", "lucia", "martin"], "it": ["leonardo", "giulia", "francesco"],
    "nl": ["daan", "emma", "sem"],
}
LAST = ["smith", "mueller", "martin", "garcia", "silva", "kim", "park", "sato", "tanaka", "rossi",
        "jansen", "lopez", "dupont", "schmidt", "brown", "lee"]
DOMAINS = {
    "en_US": ["gmail.com", "yahoo.com", "example.com", "corp.us"], "en_GB": ["btinternet.com", "example.co.uk"],
    "de": ["web.de", "gmx.de", "example.de"], "fr": ["orange.fr", "free.fr", "example.fr"],
    "es_MX": ["example.com.mx", "hotmail.com"], "pt_BR": ["uol.com.br", "example.com.br"],
    "ko": ["naver.com", "daum.net", "example.co.kr"], "ja": ["docomo.ne.jp", "example.jp", "yahoo.co.jp"],
    "es_ES": ["telefonica.es"], "it": ["libero.it"], "nl": ["ziggo.nl"],
}


def email(r, loc):
    f, l = r.choice(FIRST[loc]), r.choice(LAST)
    local = r.choice(["{f}.{l}", "{f}{l}", "{f}_{l}{n}", "{f}.{l}+{tag}", "{f}{n}", "{l}.{f}"]).format(
        f=f, l=l, n=r.randint(1, 99), tag=r.choice(["news", "shop", "work"]))
    if r.random() < 0.2:
        local = local.capitalize()
    return local + "@" + r.choice(DOMAINS[loc])


def url_cred(r, loc):
    user = r.choice(FIRST[loc])
    pw = r.choice(["s3cret", "hunter2", "P@ss", "pw", "t0ps3cr3t", "x9!k"]).replace("@", "")
    return user + ":" + pw


# ---- templates -----------------------------------------------------------------------------

# Per locale and type: sentences with {v} for the value; "{v}" may sit after ": ", ", ", "(",
# " / ", or glued to Korean and Japanese text.
T = {
    "email": {
        "en_US": ["Contact me at {v} please", "email: {v}", "send it to {v}, thanks", "({v})",
                  "reply to {v}."],
        "en_GB": ["my address is {v}", "cc {v} / ops", "e-mail {v} cheers"],
        "de": ["Meine E-Mail: {v}", "Bitte an {v} schicken.", "Kontakt ({v})"],
        "fr": ["Mon courriel : {v}", "écrivez à {v}, merci", "mail {v}"],
        "es_MX": ["Mi correo es {v}", "correo: {v}.", "escríbeme a {v}"],
        "pt_BR": ["Meu e-mail é {v}", "email: {v}", "mande para {v}, valeu"],
        "ko": ["이메일은 {v} 입니다", "메일: {v}", "연락처 {v}로 주세요"],
        "ja": ["メールは{v}です", "連絡先：{v}", "{v}までご連絡ください"],
        "*": ["mail {v}", "{v}"],
    },
    "phone": {
        "en_US": ["call me at {v} tomorrow", "phone: {v}", "my cell is {v}.", "reach me ({v})",
                  "text {v}, thanks", "number {v} / office"],
        "en_GB": ["ring me on {v}", "mobile: {v}", "tel {v}.", "my number is {v}"],
        "de": ["Ruf mich an: {v}", "Telefon {v}", "Handy: {v}, danke", "erreichbar unter {v}."],
        "fr": ["Appelez-moi au {v}", "tél : {v}", "mon portable {v}.", "joignable au {v}"],
        "es_MX": ["Llámame al {v}", "teléfono: {v}", "mi celular es {v}.", "cel {v}"],
        "pt_BR": ["Me liga no {v}", "telefone: {v}", "celular {v}, obrigado", "whatsapp {v}"],
        "ko": ["전화번호는 {v} 입니다", "연락처: {v}", "휴대폰 {v}로 연락 주세요", "전화{v}"],
        "ja": ["電話番号は{v}です", "携帯：{v}", "{v}まで電話してください", "連絡先{v}"],
        "*": ["phone {v}", "call {v}"],
    },
    "card": {
        "en_US": ["card number: {v}", "charged to {v} yesterday", "my visa is {v}.", "cc ({v})"],
        "en_GB": ["card {v} was declined", "paid with {v}, thanks"],
        "de": ["Kartennummer: {v}", "Kreditkarte {v} abgelehnt"],
        "fr": ["numéro de carte : {v}", "ma carte {v} est bloquée"],
        "es_MX": ["tarjeta: {v}", "mi tarjeta {v} no pasa"],
        "pt_BR": ["cartão {v}", "número do cartão: {v}."],
        "ko": ["카드번호 {v} 입니다", "카드{v}로 결제"],
        "ja": ["カード{v}で支払い", "カード番号：{v}"],
        "*": ["card {v}", "{v}"],
    },
    "iban": {
        "en_US": ["wire to IBAN {v}", "account: {v}."], "en_GB": ["IBAN: {v}", "pay into {v} please"],
        "de": ["IBAN: {v}", "Bitte auf {v} überweisen."], "fr": ["IBAN : {v}", "virement sur {v}"],
        "es_MX": ["IBAN {v}", "cuenta: {v}"], "pt_BR": ["IBAN: {v}", "conta {v}"],
        "ko": ["계좌 {v} 로 송금", "IBAN:{v}"], "ja": ["口座{v}へ振込", "IBAN：{v}"],
        "*": ["IBAN {v}", "({v})"],
    },
    "ipv4": {
        "en_US": ["My IP is {v}.", "blocked {v}, again", "from {v} / 24 attempts", "login ({v})"],
        "en_GB": ["server {v} is down", "IP: {v}"], "de": ["IP-Adresse: {v}", "Zugriff von {v}."],
        "fr": ["adresse IP : {v}", "connexion depuis {v}"], "es_MX": ["mi IP es {v}.", "IP: {v}"],
        "pt_BR": ["meu IP é {v}.", "acesso de {v}"], "ko": ["접속 IP {v} 차단", "IP주소:{v}"],
        "ja": ["IPアドレスは{v}です", "接続元{v}"], "*": ["ip {v}", "host {v}:8080"],
    },
    "ipv6": {
        "en_US": ["client {v} connected", "IPv6: {v}.", "from [{v}]:443"],
        "de": ["IPv6-Adresse {v}", "von {v}, blockiert"], "fr": ["adresse {v}"],
        "ko": ["IPv6 주소 {v} 입니다"], "ja": ["IPv6アドレス{v}です"], "*": ["addr {v}", "({v})"],
    },
    "ssn": {
        "en_US": ["SSN = {v}", "my ssn is {v}.", "social security number: {v}", "SSN ({v})",
                  "ss# {v}, thanks"],
        "*": ["SSN {v}", "SSN: {v}"],
    },
    "krrn": {
        "ko": ["주민번호 {v} 이고", "주민등록번호: {v}", "주민등록번호{v}입니다", "주민번호({v})"],
        "en_US": ["RRN {v}", "resident registration number: {v}"],
        "ja": ["住民登録番号{v}です"], "*": ["주민번호 {v}"],
    },
    "url_credentials": {
        "*": ["see https://{v}@{host}/repo", "clone ftp://{v}@{host}/pub", "https://{v}@{host}"],
    },
}

# Hard negatives: look-alikes of each type, with their own context.
def negatives(r):
    isbn13 = r.choice(["978", "979"]) + digits(r, 9)
    isbn13 += str((10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(isbn13)) % 10) % 10)
    isbn10 = digits(r, 9)
    c = sum((10 - i) * int(x) for i, x in enumerate(isbn10)) % 11
    isbn10 += "X" if (11 - c) % 11 == 10 else str((11 - c) % 11)
    ms = str(r.randint(1500000000000, 1800000000000))
    ver = "%d.%d.%d.%d" % (r.randint(1, 30), r.randint(0, 20), r.randint(0, 20), r.randint(0, 999))
    prod = "0" + digits(r, r.randint(8, 10))
    return [
        ("version", r.choice(["versão {v}", "version {v} installed", "Version: {v}", "ver. {v}",
                              "버전 {v} 업데이트", "バージョン{v}", "firmware {v}", "build {v}"]).format(v=ver)),
        ("version", "Chrome %d.0.%d.%d" % (r.randint(90, 130), r.randint(4000, 6999), r.randint(10, 200))),
        ("version", "v%s" % ver),
        ("isbn13", r.choice(["ISBN {v}", "ISBN: {v}", "isbn {v}", "book {v}"]).format(v=isbn13)),
        ("isbn13", "ISBN %s-%s-%s-%s-%s" % (isbn13[:3], isbn13[3], isbn13[4:7], isbn13[7:12], isbn13[12])),
        ("isbn10", r.choice(["ISBN {v}", "ISBN-10: {v}"]).format(v=isbn10)),
        ("tracking", r.choice(["tracking 1Z%s%s" % ("".join(r.choice("ABCDEFGHJK") for _ in range(3)), digits(r, 13)),
                               "USPS %s" % " ".join([("94" + digits(r, 20))[i:i + 4] for i in range(0, 22, 4)]),
                               "FedEx tracking %s" % digits(r, 12),
                               "Sendungsnummer %s" % digits(r, 20),
                               "운송장번호 %s" % digits(r, 12)])),
        ("timestamp", r.choice(["ts {v}", "created_at={v}", "timestamp: {v}", "epoch {v} ms",
                                "at {v}"]).format(v=ms)),
        ("product", r.choice(["SKU {v}", "Artikelnummer {v}", "product code {v}", "réf. produit {v}",
                              "código {v}", "품번 {v}", "品番{v}", "item #{v}", "order {v}"]).format(v=prod)),
        ("retina", r.choice(["banner@2x.png", "icon@3x.webp", "logo@2x.jpg in the header",
                             "assets/hero@2x.png"])),
        ("handle", r.choice(["ping @%s on slack" % r.choice(LAST), "npm i lodash@4.17.21",
                             "pip install foo==1.2 @ host"])),
        ("date", r.choice(["on 2024-03-15 at 10:30:00", "am 15.03.2024 um 14:00", "le 15/03/2024",
                           "born 1987-05-12", "between 1990-2010"])),
        ("mac", "MAC %s" % ":".join("%02x" % r.randint(0, 255) for _ in range(6))),
        ("code", r.choice(["std::vector<int>", "Foo::Bar::baz()", "ratio 16:9", "at 12:30:45"])),
        ("money", r.choice(["total $1,234,567.89", "1.234.567,00 €", "₩3,500,000", "¥12,800"])),
        ("zip", r.choice(["ZIP 94107-1234", "PLZ 10115", "CEP 01310-100", "〒100-0001"])),
        ("iban_bad", (lambda b: "IBAN DE%02d%s" % ((int(iban_check("DE", b)) + r.randint(1, 50)) % 100, b))(digits(r, 18))),
        ("bic", r.choice(["BIC DEUTDEFF", "SWIFT BNPAFRPPXXX", "VAT DE%s" % digits(r, 9)])),
        ("ssn_bad", r.choice(["ref %s-%s-%s" % (r.choice(["000", "666", "9%s" % digits(r, 2)]), digits(r, 2), digits(r, 4)),
                              "part 123-45-678", "case %s" % digits(r, 9)])),
        ("krrn_bad", "주문번호 %02d%02d%02d-%s" % (r.randint(0, 99), r.randint(13, 99), r.randint(1, 28), digits(r, 7))),
        ("imei", "IMEI 35%s" % digits(r, 13)),
        ("ean", "EAN 4%s" % digits(r, 12)),
    ]


def value(r, typ, loc):
    if typ == "email":
        return email(r, loc)
    if typ == "phone":
        return PHONES[loc](r)
    if typ == "card":
        return card(r)
    if typ == "iban":
        return iban(r)
    if typ == "ipv4":
        return ipv4(r)
    if typ == "ipv6":
        return ipv6(r)
    if typ == "ssn":
        return ssn(r)
    if typ == "krrn":
        return krrn(r)
    return url_cred(r, loc)


TYPES = ["email", "phone", "card", "iban", "ipv4", "ipv6", "ssn", "krrn", "url_credentials"]
WEIGHTS = [14, 22, 12, 10, 10, 7, 9, 9, 4]


def record(r, loc, fillers):
    typ = r.choices(TYPES, WEIGHTS)[0]
    if typ == "ssn" and r.random() < 0.7:
        loc = "en_US"
    if typ == "krrn" and r.random() < 0.7:
        loc = "ko"
    pool = T[typ].get(loc, []) + T[typ]["*"]
    tpl = r.choice(pool)
    v = value(r, typ, loc)
    if typ == "ssn" and " " not in v and "-" not in v and "ssn" not in tpl.lower() and "social" not in tpl:
        tpl = "SSN {v}"
    head, tail = tpl.split("{v}", 1)
    tail = tail.replace("{host}", r.choice(["git.example.com", "files.example.org", "10.0.0.5"]))
    spans = []
    pre = r.choice(fillers[loc]) + " " if r.random() < 0.4 else ""
    text = pre + head
    start = len(text.encode())
    text += v
    spans.append({"type": typ, "start": start, "end": len(text.encode())})
    text += tail
    if r.random() < 0.3:  # a second value of another type
        typ2 = r.choice(["email", "phone", "ipv4", "card", "iban"])
        tpl2 = r.choice(T[typ2].get(loc, []) + T[typ2]["*"])
        v2 = value(r, typ2, loc)
        h2, t2 = tpl2.split("{v}", 1)
        text += r.choice([" ", "; ", " / ", ", "]) + h2
        s2 = len(text.encode())
        text += v2
        spans.append({"type": typ2, "start": s2, "end": len(text.encode())})
        text += t2
    return {"text": text, "locale": loc, "spans": spans, "negative": None}


FILLERS = {
    "en_US": ["Hi team,", "Ticket #4521:", "Re: refund", "Order 12 of 3"], "en_GB": ["Cheers,", "Hiya -"],
    "de": ["Hallo,", "Betreff: Rechnung"], "fr": ["Bonjour,", "Objet : commande"],
    "es_MX": ["Hola,", "Asunto: pedido"], "pt_BR": ["Olá,", "Assunto: pedido"],
    "ko": ["안녕하세요,", "문의드립니다."], "ja": ["お世話になっております。", "問い合わせ："],
    "es_ES": ["Hola,"], "it": ["Ciao,"], "nl": ["Hoi,"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--negatives", type=float, default=0.15)
    a = ap.parse_args()
    r = random.Random(a.seed)
    out = sys.stdout
    for i in range(a.records):
        loc = LOCALES[i % len(LOCALES)]
        if r.random() < a.negatives:
            kind, text = r.choice(negatives(r))
            if r.random() < 0.4:
                text = r.choice(FILLERS[loc]) + " " + text
            rec = {"text": text, "locale": loc, "spans": [], "negative": kind}
        else:
            rec = record(r, loc, FILLERS)
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
