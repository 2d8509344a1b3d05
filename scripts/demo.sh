#!/usr/bin/env bash
# The main job on the example site, end to end against the local network sandbox:
# check, approvals, one scheduler tick at a fixed time (build, deploy, post, bring the
# replies people wrote into the inbox), the result, a second tick that has nothing to do,
# then a moderator's work: decisions, a reply, a refused reply, and the site rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
DP=.venv/bin/dialogpress
NOW="2026-11-24 10:00"
STATE=.dialogpress/sandbox-state.json

# The sandbox's made-up credentials: never real ones, and never in the repository.
export DP_SANDBOX=1
export DP_TWITTER_CONSUMER_KEY=sandbox-consumer-key DP_TWITTER_CONSUMER_SECRET=demo
export DP_TWITTER_ACCESS_TOKEN=demo DP_TWITTER_ACCESS_TOKEN_SECRET=demo
export DP_FACEBOOK_PAGE_TOKEN=sandbox-page-token
export DP_ACTOR=demo@agentur-kranich.example

echo "== 1. Checking every post and snippet against the schema and the guideline =="
$DP check | tail -n 1
echo
echo "== 2. Client approvals =="
$DP approvals | tail -n 1
echo
echo "== 3. One scheduler tick at $NOW: build, deploy to public/, post to the sandbox =="
mkdir -p .dialogpress
# --demo-comments: people answer the first post on each network, for the inbox to fill.
$DP sandbox --state "$STATE" --demo-comments > .dialogpress/sandbox.log 2>&1 &
SANDBOX=$!
trap 'kill $SANDBOX 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    .venv/bin/python -c "import socket; socket.create_connection(('127.0.0.1', 8771), 0.2)" \
        2>/dev/null && break
    sleep 0.2
done
status=0
$DP tick --now "$NOW" || status=$?
echo
echo "== 4. Where every snippet stands =="
$DP status --now "$NOW"
echo
echo "== 5. A second tick: nothing changed, so nothing is built, deployed or posted =="
$DP tick --now "$NOW" || status=$?
echo
.venv/bin/python - "$STATE" <<'PY'
import json, sys
state = json.load(open(sys.argv[1], encoding="utf-8"))
tweets, posts = state["twitter"]["tweets"], state["facebook"]["posts"]
print(f"The sandbox holds {len(tweets)} posts on X and {len(posts)} on Facebook, e.g.:")
for item in (tweets[:1] + posts[:1]):
    print("  ", (item.get("text") or item.get("message", "")).splitlines()[0][:100])
me, page = state["twitter"]["me"]["id"], state["facebook"]["page"]["id"]
replies = [t for t in tweets if t["author_id"] != me]
comments = [c for c in state["facebook"]["comments"] if c["from"]["id"] != page]
print(f"People answered with {len(replies)} replies on X and {len(comments)} comments on Facebook.")
PY
echo
echo "== 6. The inbox: what people answered, triaged with the guideline =="
$DP inbox --state all --now "$NOW"
pick() {
    $DP inbox --state all --format json --now "$NOW" | .venv/bin/python -c \
        'import json, sys; print(next(c["id"] for c in json.load(sys.stdin) if sys.argv[1] in c["text"]))' "$1"
}
praise=$(pick "Danke für die schnelle Info")
question=$(pick "Quick question")
bill=$(pick "Schlussrechnung")
echo
echo "== 7. A moderator decides (a second 'make demo' reports the decisions as conflicts) =="
$DP comment approve "$praise" --expect new --now "$NOW" || true
$DP comment approve "$question" --expect new --now "$NOW" || true
$DP comment approve "$bill" --expect new --now "$NOW" || true
echo "-- a reply with a phrase the guideline forbids is refused:"
$DP comment reply "$bill" "Das garantieren wir: Ihre Rechnung kommt diese Woche." --now "$NOW" || true
echo "-- a clean one goes out in the thread, once (run it twice: one post):"
$DP comment reply "$question" "Yes: our customer centre is open on Saturdays from 9 am to 1 pm." --now "$NOW"
echo
echo "== 8. A third tick: the approved comments and our reply go on the site =="
$DP tick --now "$NOW" || status=$?
echo
echo "== 9. Response times against the guideline's targets =="
$DP report --now "$NOW"
cat <<TXT

Run 'make demo' again: nothing is posted twice (the ledger is in .dialogpress/).
Held pieces: .venv/bin/dialogpress release PIECE   (then run make demo again)
Look at the site:   python3 -m http.server -d public   → http://127.0.0.1:8000/  (the deployed release)
Look at the sandbox: .venv/bin/dialogpress sandbox --state $STATE
                     → http://127.0.0.1:8771/_sandbox/state and http://127.0.0.1:8772/_sandbox/state
TXT
exit $status
