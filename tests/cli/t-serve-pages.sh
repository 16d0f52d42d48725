#!/bin/sh
# steward serve's HTML pages, driven with curl over the example catalog: the strict
# Content-Security-Policy and the other headers, HTML escaping of descriptions, tags and
# a search term holding <script> and "><img onerror>, the login form (CSRF bound to its
# nonce cookie, an HttpOnly SameSite=Strict cookie good for pages and never for the API),
# CSRF tokens on every POST (missing, of another user, cross-site: 403 and recorded),
# filing a request (dpo only; the subject's value kept nowhere), static files from a fixed
# table (no traversal), the lineage page's SVG, hidden-node count, PII edges and downloads
# (the DOT is what lineage --dot prints), and the audit record of every page.
. "$(dirname "$0")/lib.sh"
require curl jq
init_ws
me=$(id -un)
cd "$TMP" || exit 99
printf 'roles:\n  users:\n    "%s": admin\n    vic: viewer\n' "$me" >"$WS/steward.yaml"
mkdir xss
cat >xss/xss.yaml <<'YAML'
kind: table
name: xss.evil
description: 'Evil <script>alert(1)</script> and "><img src=x onerror=alert(2)>'
owner: '"><img src=x onerror=alert(3)>'
tags: ['<script>alert(4)</script>', '"><img src=x onerror=alert(5)>']
columns:
  - {name: id, type: string, pii: none, description: '<script>alert(6)</script>'}
YAML
expect_exit 0 steward catalog load "$STEWARD_SRC/examples/catalog" xss
expect_exit 0 steward key init
expect_exit 0 steward token new "$me"
tok=$(cat "$OUT")
expect_exit 0 steward token new vic
vic=$(cat "$OUT")

mkfifo serve.out
"$STEWARD" --home "$WS" serve --listen 127.0.0.1:0 --threads 2 >serve.out 2>serve.err &
pid=$!
HTTP_PID=$pid # lib.sh's exit trap stops it if the script ends early
exec 3<serve.out
IFS= read -r l1 <&3
U=http://127.0.0.1:${l1##*:}
A="Authorization: Bearer $tok"

get() { # get NAME CURL-ARGS... : body in NAME.html, status in NAME.code, headers in NAME.h
	n=$1
	shift
	curl -s -o "$n.html" -D "$n.h" -w '%{http_code}' "$@" >"$n.code"
}
csrf_of() { grep -o 'name="csrf" value="[^"]*"' "$1" | head -n 1 | sed 's/.*value="//; s/"$//'; }

# ---- no token: a page that says how to log in ----
get anon "$U/search?q=revenue"
expect_equal 401 "$(cat anon.code)" 'a page without a token: 401'
check 'the 401 page says why and links to the login form' sh -c \
	"grep -qF 'a token is needed: log in at &#39;/login&#39; with one (see &#39;steward token new&#39;)' anon.html && grep -q 'href=\"/login\"' anon.html"
check 'an error page is HTML' grep -qi '^Content-Type: text/html' anon.h

# ---- the headers of a page ----
get search -H "$A" "$U/search?q=revenue"
expect_equal 200 "$(cat search.code)" 'search page: 200'
check 'a strict Content-Security-Policy: no inline script or style, no frames' grep -qx \
	"Content-Security-Policy: default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$(printf '\r')" search.h
check 'no framing, no sniffing, no referrer, no caching' sh -c \
	"grep -qi '^X-Frame-Options: DENY' search.h && grep -qi '^X-Content-Type-Options: nosniff' search.h &&
	 grep -qi '^Referrer-Policy: no-referrer' search.h && grep -qi '^Cache-Control: no-store' search.h"
check 'no inline script, no style attribute, no event handler in a page' sh -c \
	"! grep -Eqi '<script>|<script [^>]*>[^<]|style=|onerror=|onclick=|onload=' search.html"
check 'search ranks the certified datasets first, with badges and owners' sh -c \
	"grep -o 'class=\"hit-name\" href=\"[^\"]*\"' search.html | head -n 2 | grep -c 'bi.revenue\|dw.revenue_daily' | grep -qx 2 &&
	 grep -q 'badge certified' search.html && grep -q 'owner data-eng' search.html"
check 'search marks datasets with PII' grep -q 'PII: pseudonymous' search.html
get filtered -H "$A" "$U/search?q=revenue&kind=table&pii=1"
check 'filters: kind table and PII only' sh -c \
	"grep -q 'href=\"/datasets/dw.fact_enrollment\"' filtered.html && ! grep -q 'href=\"/datasets/dw.revenue_daily\"' filtered.html &&
	 [ \$(grep -o 'class=\"kind\">[a-z]*' filtered.html | sort -u) = 'class=\"kind\">table' ]"

# ---- every value escaped ----
get evil -H "$A" "$U/datasets/xss.evil"
expect_equal 200 "$(cat evil.code)" 'the card of a dataset with markup in its text: 200'
check 'no markup from the catalog reaches the card' sh -c "! grep -Eq '<script>alert|<img src' evil.html"
check 'the description, owner, tags and field text are shown escaped' sh -c \
	"grep -qF 'Evil &lt;script&gt;alert(1)&lt;/script&gt; and &quot;&gt;&lt;img src=x onerror=alert(2)&gt;' evil.html &&
	 grep -qF '&quot;&gt;&lt;img src=x onerror=alert(3)&gt;' evil.html &&
	 grep -qF '&lt;script&gt;alert(4)&lt;/script&gt;' evil.html && grep -qF '&lt;script&gt;alert(6)' evil.html"
get evils -H "$A" "$U/search?q=evil&tag=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(7)%3E"
get evilq -H "$A" "$U/search?q=%22%3E%3Cscript%3Ealert(8)%3C%2Fscript%3E"
check 'search results and a reflected query or filter are escaped' sh -c \
	"! grep -Eq '<script>alert|<img src' evils.html evilq.html && grep -qF 'value=\"&quot;&gt;&lt;script&gt;alert(8)' evilq.html &&
	 grep -qF 'value=\"&quot;&gt;&lt;img src=x onerror=alert(7)&gt;\"' evils.html"
get evilp -H "$A" "$U/datasets/%3Cscript%3Ealert(9)%3C%2Fscript%3E"
expect_equal 404 "$(cat evilp.code)" 'an unknown dataset: 404'
check 'the name in the 404 page is escaped' sh -c "! grep -q '<script>alert' evilp.html && grep -qF '&lt;script&gt;alert(9)' evilp.html"

# ---- static files: a fixed table, no traversal ----
get css "$U/static/steward.css"
expect_equal 200 "$(cat css.code)" 'the stylesheet: 200 without a token'
check 'served as text/css' grep -qi '^Content-Type: text/css' css.h
for p in '/static/../meson.build' '/static/%2e%2e/meson.build' '/static/..%2fserve%2fserver.c' \
	'/static/steward.css/..' '/static/./steward.css' '/static//etc/passwd' '/static/'; do
	get trav --path-as-is "$U$p"
	expect_equal 404 "$(cat trav.code)" "no file outside the table: $p"
done

# ---- login: CSRF bound to the form's nonce cookie; a cookie for pages only ----
get lform -c jar "$U/login"
expect_equal 200 "$(cat lform.code)" 'the login form: 200 without a token'
check 'the form sets its nonce cookie HttpOnly and SameSite=Strict' grep -qi '^Set-Cookie: steward_login=[0-9a-f]*; Path=/login; HttpOnly; SameSite=Strict' lform.h
lcsrf=$(csrf_of lform.html)
get lnocsrf -b jar --data-urlencode "token=$tok" "$U/login"
expect_equal 403 "$(cat lnocsrf.code)" 'login without the CSRF token: 403'
get lnocookie --data-urlencode "csrf=$lcsrf" --data-urlencode "token=$tok" "$U/login"
expect_equal 403 "$(cat lnocookie.code)" 'login with the token of a form but not its cookie: 403'
get lbad -b jar --data-urlencode "csrf=$lcsrf" --data-urlencode "token=stw_0123456789abcdef_$(printf '%043d' 0)" "$U/login"
expect_equal 401 "$(cat lbad.code)" 'login with an unknown token: 401'
check 'it says why' grep -q 'unknown token' lbad.html
get login -b jar -c jar --data-urlencode "csrf=$lcsrf" --data-urlencode "token=$tok" "$U/login"
expect_equal 303 "$(cat login.code)" 'login: 303 to the search page'
check 'the token cookie is HttpOnly and SameSite=Strict' grep -qi '^Set-Cookie: steward_token=stw_[^;]*; Path=/; HttpOnly; SameSite=Strict' login.h
get bycookie -b jar "$U/requests"
expect_equal 200 "$(cat bycookie.code)" 'a page with the cookie: 200'
check 'the page names the caller' grep -q "id=\"who\">$me (admin)" bycookie.html
get apicookie -b jar "$U/api/v1/whoami"
expect_equal 401 "$(cat apicookie.code)" 'the API does not take the cookie (its POSTs carry no CSRF token): 401'

# ---- CSRF on every POST form ----
form="kind=erase&regime=gdpr&category=user.contact.email&value=canary-page%40example.com"
rcsrf=$(csrf_of bycookie.html)
get nocsrf -b jar --data "$form" "$U/requests"
expect_equal 403 "$(cat nocsrf.code)" 'a POST without a CSRF token: 403'
check 'it says why' grep -qF 'the form&#39;s csrf token is missing or wrong' nocsrf.html
get madeup -b jar --data "csrf=$(printf '%043d' 0)&$form" "$U/requests"
expect_equal 403 "$(cat madeup.code)" 'a made-up CSRF token: 403'
get vicpage -H "Authorization: Bearer $vic" "$U/search"
vcsrf=$(csrf_of vicpage.html)
check 'every page has a POST form (log out) with the caller'"'"'s token' test -n "$vcsrf"
get othercsrf -b jar --data "csrf=$vcsrf&$form" "$U/requests"
expect_equal 403 "$(cat othercsrf.code)" 'the CSRF token of another user: 403'
get crosssite -b jar -H 'Sec-Fetch-Site: cross-site' --data "csrf=$rcsrf&$form" "$U/requests"
expect_equal 403 "$(cat crosssite.code)" 'a POST a page of another site sends, with a good token: 403'
get origin -b jar -H 'Origin: http://evil.example' --data "csrf=$rcsrf&$form" "$U/requests"
expect_equal 403 "$(cat origin.code)" 'a POST from another origin: 403'
get viewer -H "Authorization: Bearer $vic" --data "csrf=$rcsrf&$form" "$U/requests"
expect_equal 403 "$(cat viewer.code)" 'filing with the viewer role: 403'
check 'it needs the dpo role' grep -qF "needs the &#39;dpo&#39; role; &#39;vic&#39; has the &#39;viewer&#39; role" viewer.html
get filed -b jar --data "csrf=$rcsrf&$form" "$U/requests"
expect_equal 303 "$(cat filed.code)" 'filing with the form'"'"'s token and the dpo role: 303'
rid=$(sed -n 's/^Location: \/requests\/\(R-[0-9-]*\).*/\1/p' filed.h)
check 'to the new request' test -n "$rid"
get req -b jar "$U/requests/$rid"
expect_equal 200 "$(cat req.code)" 'the request page: 200'
check 'it shows the plan and the timeline' sh -c "grep -q 'id=\"plan\"' req.html && grep -q 'id=\"timeline\"' req.html"
get badkind -b jar --data "csrf=$rcsrf&kind=delete&category=user.contact.email&value=x" "$U/requests"
expect_equal 400 "$(cat badkind.code)" 'an unknown kind: 400'
check 'it says which kinds there are' grep -q 'give one kind: erase, access or object' badkind.html
get badcat -b jar --data "csrf=$rcsrf&kind=erase&category=user.nope&value=x" "$U/requests"
expect_equal 400 "$(cat badcat.code)" 'an unknown category: 400'
check 'it names the category' grep -qF "unknown category &#39;user.nope&#39;" badcat.html

# ---- lineage ----
get lin -H "$A" "$U/lineage/dw.revenue_daily?dir=up&depth=1"
expect_equal 200 "$(cat lin.code)" 'lineage page: 200'
check 'the graph is an SVG laid out in the page' grep -q '<svg ' lin.html
check 'its nodes link to their cards' grep -q 'xlink:href="/datasets/dw.fact_enrollment"' lin.html
check 'the depth cap hides 3 nodes, and says so' grep -q 'id="hidden">3 more nodes are hidden by the depth cap' lin.html
get col -H "$A" "$U/lineage/dw.fact_enrollment.user_key?dir=up"
check 'a column edge that carries PII is marked' sh -c \
	"grep -q 'class=\"edge pii\"' col.html && grep -q '<tr class=\"pii-edge\"><td>prod.enrollments.user_id</td><td>dw.fact_enrollment.user_key</td>' col.html"
get dot -H "$A" "$U/lineage/bi.revenue?dir=both&depth=2&format=dot"
expect_exit 0 steward lineage bi.revenue --both --depth 2 --dot
check 'the DOT download is what lineage --dot prints' cmp dot.html "$OUT"
check 'as a download' grep -qi '^Content-Disposition: attachment; filename="lineage.dot"' dot.h
get svg -H "$A" "$U/lineage/bi.revenue?format=svg"
check 'the SVG download' sh -c "grep -qi '^Content-Type: image/svg+xml' svg.h && grep -q '<svg' svg.html"
get csv -H "$A" "$U/lineage/dw.fact_enrollment.user_key?format=csv"
check 'the CSV of edges' sh -c "head -n 1 csv.html | grep -qx 'from,to,pii.' && grep -q '^\"prod.enrollments.user_id\",\"dw.fact_enrollment.user_key\",yes' csv.html"
get path -H "$A" "$U/lineage/dw.revenue_daily?dir=up&depth=3&from=prod.orders&to=dw.revenue_daily"
check 'a chosen path is highlighted' sh -c "[ \$(grep -o '<tr class=\"path\">' path.html | wc -l) -eq 3 ]"
get linbad -H "$A" "$U/lineage/dw.revenue_daily?format=png"
expect_equal 400 "$(cat linbad.code)" 'an unknown format: 400'

# ---- the other pages ----
for p in /pii/map /pii/untagged /audit /audit/log "/audit/log?action=request.*&outcome=denied" "/audit/reports/$(date -u +%Y-%m)" "/datasets/dw.fact_enrollment?version=1&diff=1"; do
	get other -H "$A" "$U$p"
	expect_equal 200 "$(cat other.code)" "$p: 200"
done
get reqs -H "$A" "$U/audit/log?action=request.new&outcome=denied"
check 'the log view shows the refused POSTs with their reason' grep -c 'no valid csrf token' reqs.html
get logout -b jar -c jar --data "csrf=$rcsrf" "$U/logout"
expect_equal 303 "$(cat logout.code)" 'log out: 303 to the login form'
get loggedout -b jar "$U/search"
expect_equal 401 "$(cat loggedout.code)" 'after logging out the cookie is gone: 401'
check 'the audit status says the log is intact' sh -c "curl -s -H '$A' '$U/audit' | grep -q 'id=\"verify\">The log is intact'"

# ---- stop, then what was recorded ----
kill -TERM "$pid"
IFS= read -r l2 <&3
expect_equal 'stopping on SIGTERM' "$l2" 'the server stops on SIGTERM'
rc=0
wait "$pid" || rc=$?
HTTP_PID=
expect_equal 0 "$rc" 'and exits 0'
check 'it wrote nothing but access lines on stderr' sh -c "! grep -v ' HTTP/1.1\" ' serve.err"
exec 3<&-
check 'the subject of the filed request is kept nowhere' sh -c \
	"! grep -rqF 'canary-page' '$WS/.steward' serve.err"
check 'no token in the access log' sh -c "! grep -qF '${tok#stw_*_}' serve.err"
expect_exit 0 steward audit log --json --action catalog.show --actor "$me"
expect_jq '[.[] | .object] | index("/datasets/xss.evil") != null' true
expect_exit 0 steward audit log --json --action request.new
expect_jq '[.[] | [.actor, .outcome, .reason]]' "[[\"$me\",\"denied\",\"no valid csrf token\"],[\"$me\",\"denied\",\"no valid csrf token\"],[\"$me\",\"denied\",\"no valid csrf token\"],[\"$me\",\"denied\",\"no valid csrf token\"],[\"$me\",\"denied\",\"no valid csrf token\"],[\"vic\",\"denied\",\"needs the 'dpo' role\"],[\"$me\",\"ok\",null],[\"$me\",\"error\",null],[\"$me\",\"error\",null]]"
expect_exit 0 steward audit log --json --action serve.login
expect_jq '[.[] | [.actor, .outcome]]' "[[\"(anonymous)\",\"denied\"],[\"(anonymous)\",\"denied\"],[\"(anonymous)\",\"denied\"],[\"$me\",\"ok\"]]"
expect_exit 0 steward audit verify
done_testing
