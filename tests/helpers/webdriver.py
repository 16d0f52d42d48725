#!/usr/bin/env python3
"""A small WebDriver client (W3C protocol over urllib) that drives Debian's Chromium through
ChromeDriver for t-browser.sh: search "revenue", open the certified dataset, open its
lineage, click an upstream node of the SVG and see its card; the column lineage of a PII
field marks its edge; the requests page shows the overdue request in the overdue group.
Every assertion reads the DOM; a screenshot of each step is saved.

usage: webdriver.py BASE_URL TOKEN OVERDUE_ID SHOTS_DIR PROFILE_DIR
Prints one line per check, "ok DESC" or "not ok DESC: DETAIL"; exits 77 with
"skip REASON" when Chromium or ChromeDriver cannot be started here."""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE, TOKEN, OVERDUE, SHOTS, PROFILE = sys.argv[1:6]
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    def __init__(self, port):
        self.url = "http://127.0.0.1:%d" % port
        self.sid = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError("%s %s: %s" % (method, path, e.read()[:300].decode("utf-8", "replace")))

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.sid, path), body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def find(self, css=None, xpath=None):
        v = self.s("POST", "/element", {"using": "xpath" if xpath else "css selector",
                                        "value": xpath or css})
        return v[ELEMENT]

    def finds(self, css):
        return [v[ELEMENT] for v in self.s("POST", "/elements", {"using": "css selector", "value": css})]

    def text(self, el):
        return self.s("GET", "/element/%s/text" % el)

    def prop(self, el, name):
        return self.s("GET", "/element/%s/property/%s" % (el, name))

    def click(self, el):
        self.s("POST", "/element/%s/click" % el, {})

    def type(self, el, keys):
        self.s("POST", "/element/%s/value" % el, {"text": keys})

    def current(self):
        return self.s("GET", "/url")

    def wait_url(self, prefix):
        """The page's URL once it starts with prefix: a click on a form's button returns
        before the POST's redirect has loaded. Polled up to 400 times, 50 ms apart; the
        URL as it is when it never does."""
        for _ in range(400):
            url = self.current()
            if url.startswith(prefix):
                return url
            time.sleep(0.05)
        return url

    def shot(self, name):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        with open(os.path.join(SHOTS, name + ".png"), "wb") as f:
            f.write(png)


failed = 0


def check(desc, ok, detail=""):
    global failed
    if ok:
        print("ok " + desc)
    else:
        failed += 1
        print("not ok %s: %s" % (desc, detail))
    sys.stdout.flush()


def main():
    port = free_port()
    try:
        cd = subprocess.Popen(["chromedriver", "--port=%d" % port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as e:
        print("skip chromedriver cannot be started: %s" % e)
        return 77
    d = Driver(port)
    try:
        # Readiness: ChromeDriver's /status says ready once it listens (polled, bounded).
        for _ in range(400):
            try:
                if d.call("GET", "/status").get("ready"):
                    break
            except (OSError, RuntimeError):
                pass
            if cd.poll() is not None:
                print("skip chromedriver exited with status %d" % cd.returncode)
                return 77
            time.sleep(0.025)
        else:
            print("skip chromedriver never said it was ready")
            return 77
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--window-size=1400,1000", "--user-data-dir=" + PROFILE]
        try:
            v = d.call("POST", "/session", {"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}})
        except (OSError, RuntimeError) as e:
            print("skip chromium cannot be started here: %s" % str(e).splitlines()[0][:200])
            return 77
        d.sid = v["sessionId"]
        try:
            # Finding an element waits up to 10 s for it to appear (a page still loading).
            d.s("POST", "/timeouts", {"implicit": 10000})
            scenario(d)
        except RuntimeError as e:  # an element not found, a click refused: a failure
            check("the scenario runs to its end", False, str(e).splitlines()[0][:300])
        finally:
            try:
                d.call("DELETE", "/session/" + d.sid)
            except (OSError, RuntimeError):
                pass
    finally:
        cd.terminate()
        cd.wait()
    return 1 if failed else 0


def scenario(d):
    # Log in through the form: the token goes into the HttpOnly cookie.
    d.go(BASE + "/login")
    d.type(d.find("#token"), TOKEN)
    d.click(d.find("form.login button"))
    url = d.wait_url(BASE + "/search")
    check("the login form leads to the search page", url.startswith(BASE + "/search"), url)
    check("the page names the caller", "(admin)" in d.text(d.find("#who")))

    # Search "revenue" with the form.
    d.type(d.find("#q"), "revenue")
    d.click(d.find("form.search button"))
    d.shot("1-search")
    hits = d.finds("#hits li.hit")
    check("search shows results", len(hits) >= 2, "%d hits" % len(hits))
    certified = d.finds("#hits li.hit .badge.certified")
    check("certified datasets carry a badge", len(certified) >= 1)
    link = d.find(xpath="//ol[@id='hits']/li[span[contains(@class,'certified')]][1]/a[@class='hit-name']")
    name = d.text(link)
    first = d.text(d.find("#hits li.hit a.hit-name"))
    check("the first hit is certified (the boost)", first == name, "%s, %s" % (first, name))

    # Open the certified dataset.
    d.click(link)
    d.shot("2-card")
    check("its card opens", d.text(d.find("h1")) == name, d.text(d.find("h1")))
    check("the card shows the certified badge", d.text(d.find("#certified")) == "certified")
    ups = [d.text(e) for e in d.finds("#upstream a.ds")]
    check("the card lists upstream datasets", len(ups) >= 1, repr(ups))

    # Open its lineage and click an upstream node of the SVG.
    d.click(d.find("#lineage-link"))
    d.shot("3-lineage")
    check("the lineage page opens", d.text(d.find("h1")) == "Lineage of " + name,
          d.text(d.find("h1")))
    up = ups[0]
    node = d.find(xpath="//*[local-name()='g'][contains(@class,'node')]"
                        "[*[local-name()='title']='%s']//*[local-name()='a']" % up)
    d.click(node)
    d.shot("4-upstream-card")
    check("clicking the upstream node %s opens its card" % up, d.text(d.find("h1")) == up,
          "%s at %s" % (d.text(d.find("h1")), d.current()))

    # The column lineage of a PII field marks the edge that carries it.
    d.go(BASE + "/datasets/dw.fact_enrollment")
    d.click(d.find("tr#f-user_key a.field-lineage"))
    d.shot("5-column-lineage")
    check("the column lineage of dw.fact_enrollment.user_key opens",
          d.text(d.find("h1")) == "Lineage of dw.fact_enrollment.user_key", d.text(d.find("h1")))
    edges = d.finds("#graph g.edge.pii")
    check("its PII edge is marked in the SVG", len(edges) == 1, "%d marked" % len(edges))
    title = d.find(xpath="//*[local-name()='g'][contains(@class,'pii')]/*[local-name()='title']")
    t = d.prop(title, "textContent") or ""
    check("the marked edge is prod.enrollments.user_id -> dw.fact_enrollment.user_key",
          "prod.enrollments.user_id" in t and "dw.fact_enrollment.user_key" in t, t)
    check("the edge table says PII", "PII" in d.text(d.find("#edges tr.pii-edge")))

    # The requests page shows the overdue request in the overdue group.
    d.click(d.find(xpath="//header//a[text()='Requests']"))
    d.shot("6-requests")
    rows = [d.text(e) for e in d.finds("#overdue tr.request")]
    check("the overdue group holds the overdue request",
          any(r.startswith(OVERDUE) and "late" in r for r in rows), repr(rows))
    check("no other group holds it",
          not any(OVERDUE in d.text(e) for e in d.finds("#soon tr.request, #open tr.request")))


sys.exit(main())
