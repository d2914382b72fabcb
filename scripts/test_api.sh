#!/usr/bin/env bash
# A curl walk-through of the whole flow, checked against ../shared/API.md (v2, "Operations"):
# health, submit, the event stream, polling, results, speakers, cancel, bad input.
#
#   scripts/test_api.sh [DATASET]
#
# DATASET is a directory on the server's disk; without it the demo data (./data/demo-libritts,
# written with `npm run demo-data` when missing) is used. The script stops at the first answer
# that breaks the contract, naming the step, what it expected and what it received.
#
# Environment:
#   BASE_URL      the server (default http://127.0.0.1:8006)
#   API_TOKEN     sent as `Authorization: Bearer …` on every /api request (and tried as
#                 `?access_token=` on the events route) when set
#   SSE_TIMEOUT   seconds the event stream may take to reach its terminal event (default 120)
#   CURL_TIMEOUT  seconds for every other request (default 10)
#   POLL_TIMEOUT  seconds to wait for a polled task to end (default 120)
#
# Exit codes: 0 every step passed; 1 a step failed; 2 missing tool or bad usage.
set -euo pipefail

BASE_URL="${BASE_URL:-http://127.0.0.1:8006}"
BASE_URL="${BASE_URL%/}"
API="$BASE_URL/api/voice-library"
SSE_TIMEOUT="${SSE_TIMEOUT:-120}"
CURL_TIMEOUT="${CURL_TIMEOUT:-10}"
POLL_TIMEOUT="${POLL_TIMEOUT:-120}"
API_TOKEN="${API_TOKEN:-}"
TOTAL_STEPS=8

usage() { echo "usage: $0 [DATASET]   (env: BASE_URL, API_TOKEN, SSE_TIMEOUT, CURL_TIMEOUT, POLL_TIMEOUT)" >&2; }
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if (($# > 1)); then usage; exit 2; fi
for tool in curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is required but not installed; install it with: apt-get install -y $tool" >&2
    exit 2
  fi
done
for n in "$SSE_TIMEOUT" "$CURL_TIMEOUT" "$POLL_TIMEOUT"; do
  [[ "$n" =~ ^[0-9]+$ && "$n" -gt 0 ]] || { echo "SSE_TIMEOUT, CURL_TIMEOUT and POLL_TIMEOUT must be whole seconds > 0" >&2; exit 2; }
done

# The dataset: given (made absolute against the caller's directory), or the demo data.
DATASET="${1:-}"
if [[ -n "$DATASET" && "$DATASET" != /* ]]; then DATASET="$PWD/$DATASET"; fi
cd "$(dirname "$0")/.."
if [[ -z "$DATASET" ]]; then
  DATASET="$PWD/data/demo-libritts"
  if [[ ! -d "$DATASET" ]]; then
    echo "writing the demo data to $DATASET (npm run demo-data)"
    npm run --silent demo-data >/dev/null
  fi
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/test_api.XXXXXX")"
SSE_PID=""
cleanup() {
  if [[ -n "$SSE_PID" ]]; then kill "$SSE_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# The token goes into a file (mode 600) that curl reads, so it never shows in `ps`.
AUTH=()
if [[ -n "$API_TOKEN" ]]; then
  (umask 077 && printf 'Authorization: Bearer %s\n' "$API_TOKEN" >"$TMP/auth")
  AUTH=(-H "@$TMP/auth")
fi

STEP_NO=0
STEP=""
step() { STEP_NO=$1; STEP=$2; }
ok() { printf '[%d/%d] %-9s ok   %s\n' "$STEP_NO" "$TOTAL_STEPS" "$STEP" "$1"; }
# fail "expected …" "received …": one line naming the step, then exit 1.
fail() {
  printf '[%d/%d] %-9s FAIL expected %s; received %s\n' "$STEP_NO" "$TOTAL_STEPS" "$STEP" "$1" "$2"
  echo "test_api: FAILED at step $STEP_NO ($STEP) against $BASE_URL" >&2
  exit 1
}
short() { tr -d '\r\n' <"$1" | cut -c1-300; }

# req METHOD URL [curl args…]: sets CODE and TIME (seconds), and the body and headers in
# $TMP/body and $TMP/headers.
CODE=""
TIME=""
req() {
  local method=$1 url=$2 out
  shift 2
  local extra=()
  [[ "$url" == "$API"* ]] && extra=("${AUTH[@]}")
  if ! out=$(curl -sS --max-time "$CURL_TIMEOUT" --connect-timeout 5 -X "$method" "${extra[@]}" "$@" \
    -D "$TMP/headers" -o "$TMP/body" -w '%{http_code} %{time_total}' "$url" 2>"$TMP/curl.err"); then
    fail "an answer from $method $url within CURL_TIMEOUT=${CURL_TIMEOUT}s" "no answer: $(short "$TMP/curl.err")"
  fi
  read -r CODE TIME <<<"$out"
}
# header NAME: the value of that header in the last answer (the last one sent), or empty.
header() {
  awk -v name="$(echo "$1" | tr 'A-Z' 'a-z')" -F': *' '{ sub(/\r$/, "") } tolower($1) == name { sub(/^[^:]*: */, ""); v = $0 } END { print v }' "$TMP/headers"
}
# expect_status CODE… : the last answer's HTTP status is one of these.
expect_status() {
  local c
  for c in "$@"; do [[ "$CODE" == "$c" ]] && return 0; done
  local hint=""
  [[ "$CODE" == 401 ]] && hint=" (is API_TOKEN set to the server's token?)"
  fail "HTTP $(echo "$@" | sed 's/ / or /g')" "HTTP $CODE $(short "$TMP/body")$hint"
}
# check JQ_FILTER WHAT: the last body satisfies the filter (which must yield true).
check() {
  if ! jq -e "$1" "$TMP/body" >/dev/null 2>&1; then fail "$2" "$(short "$TMP/body")"; fi
}
jqr() { jq -r "$1" "$TMP/body"; }
# expect_error STATUS CODE: the contract's error answer, `{detail, code, issues}`.
expect_error() {
  expect_status "$1"
  check '(.detail | type) == "string" and (.code | type) == "string" and (.issues | type) == "array"' \
    "an error body {detail, code, issues}"
  [[ "$(jqr .code)" == "$2" ]] || fail "code $2" "code $(jqr .code) ($(jqr .detail))"
}
url() { if [[ "$1" == http* ]]; then echo "$1"; else echo "$BASE_URL$1"; fi; }
is_terminal() { [[ "$1" == completed || "$1" == failed || "$1" == cancelled ]]; }
submit() {
  req POST "$API/scan-libritts" -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg p "$DATASET" '{libritts_path: $p, analysis: "full"}')"
}

echo "test_api: $BASE_URL, dataset $DATASET"

# 1. Health, at the root (not under the API base, no token needed).
step 1 health
req GET "$BASE_URL/healthz"
expect_status 200
check '.status == "ok"' '{"status":"ok",…}'
ok "$(jq -c . "$TMP/body")"

# 2. Submit: 202 at once, with the task's URLs and a Location header.
step 2 submit
submit
expect_status 202
check '(.task_id | type) == "string" and (.task_id | length) > 0' 'a task_id'
check '.status == "accepted"' 'status "accepted"'
TASK_ID=$(jqr .task_id)
for f in status_url events_url results_url; do
  check "(.$f | type) == \"string\" and (.$f | contains(\"$TASK_ID\"))" "$f naming the task"
done
STATUS_URL=$(url "$(jqr .status_url)")
EVENTS_URL=$(url "$(jqr .events_url)")
RESULTS_URL=$(url "$(jqr .results_url)")
LOCATION=$(header Location)
[[ -n "$LOCATION" ]] || fail "a Location header" "none"
[[ "$(url "$LOCATION")" == "$STATUS_URL" ]] || fail "Location = status_url ($STATUS_URL)" "$LOCATION"
ok "task $TASK_ID (202 in ${TIME}s)"

# 3. The event stream (`curl -N`) until the terminal event: retry, then status, ids increasing,
#    exactly one terminal event, then the server closes the stream.
step 3 events
SSE_START=$SECONDS
curl -sS -N --max-time "$SSE_TIMEOUT" --connect-timeout 5 "${AUTH[@]}" -H 'Accept: text/event-stream' \
  -D "$TMP/sse.headers" -o "$TMP/sse.body" -w '%{http_code}' "$EVENTS_URL" >"$TMP/sse.code" 2>"$TMP/sse.err" &
SSE_PID=$!
# Wait for the terminal event (or curl's end), then give the server a few seconds to close.
while kill -0 "$SSE_PID" 2>/dev/null && ! grep -qE '^event: *(completed|failed|cancelled)' "$TMP/sse.body" 2>/dev/null; do
  sleep 0.2
done
for _ in $(seq 1 25); do kill -0 "$SSE_PID" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$SSE_PID" 2>/dev/null; then
  kill "$SSE_PID" 2>/dev/null || true
  wait "$SSE_PID" 2>/dev/null || true
  SSE_PID=""
  fail "the stream closed after its terminal event" "still open 5 s later"
fi
SSE_RC=0
wait "$SSE_PID" || SSE_RC=$?
SSE_PID=""
SSE_CODE=$(cat "$TMP/sse.code" 2>/dev/null || true)
SSE_TYPE=$(awk -F': *' 'tolower($1) == "content-type" { sub(/\r$/, ""); sub(/^[^:]*: */, ""); v = $0 } END { print v }' "$TMP/sse.headers" 2>/dev/null || true)
if [[ "$SSE_CODE" != 200 ]]; then fail "HTTP 200 text/event-stream" "HTTP ${SSE_CODE:-none} $(short "$TMP/sse.body") $(short "$TMP/sse.err")"; fi
[[ "$SSE_TYPE" == text/event-stream* ]] || fail "Content-Type text/event-stream" "${SSE_TYPE:-none}"
SSE_CACHE=$(awk -F': *' 'tolower($1) == "cache-control" { sub(/\r$/, ""); sub(/^[^:]*: */, ""); v = $0 } END { print v }' "$TMP/sse.headers")
[[ "$SSE_CACHE" == *no-cache* || "$SSE_CACHE" == *no-store* ]] || fail "Cache-Control: no-cache on the stream" "'$SSE_CACHE'"
# One line per event: name, id, data (a snapshot is one JSON line with no tab in it; data split
# over several lines is joined with spaces, which JSON reads the same outside strings).
awk 'BEGIN { RS = ""; FS = "\n" }
  { ev = ""; id = ""; data = ""; retry = ""
    for (i = 1; i <= NF; i++) {
      line = $i; sub(/\r$/, "", line)
      if (line ~ /^:/) continue
      n = index(line, ":"); f = n ? substr(line, 1, n - 1) : line; v = n ? substr(line, n + 1) : ""; sub(/^ /, "", v)
      if (f == "event") ev = v; else if (f == "id") id = v; else if (f == "retry") retry = v
      else if (f == "data") data = data == "" ? v : data " " v
    }
    if (retry != "" && ev == "" && data == "") { print "retry\t" retry "\t"; next }
    if (ev == "" && data == "" && id == "") next
    print (ev == "" ? "message" : ev) "\t" id "\t" data }' "$TMP/sse.body" >"$TMP/sse.events"
FIRST_LINE=$(grep -v '^[[:space:]]*$' "$TMP/sse.body" | head -n 1 | tr -d '\r' || true)
[[ "$FIRST_LINE" =~ ^retry:\ ?[0-9]+$ ]] || fail "the stream to start with 'retry: <ms>'" "'${FIRST_LINE:0:100}'"
FIRST_EVENT=$(awk -F'\t' '$1 != "retry" { print $1; exit }' "$TMP/sse.events")
[[ "$FIRST_EVENT" == status ]] || fail "'event: status' first" "'event: ${FIRST_EVENT:-<none>}'"
if grep -q '^error	' "$TMP/sse.events"; then fail "no event named 'error'" "$(grep -m1 '^error	' "$TMP/sse.events" | cut -c1-200)"; fi
N_TERMINAL=$(awk -F'\t' '$1 == "completed" || $1 == "failed" || $1 == "cancelled"' "$TMP/sse.events" | wc -l)
if ((N_TERMINAL == 0)); then
  if ((SSE_RC == 28)); then fail "a terminal event within SSE_TIMEOUT=${SSE_TIMEOUT}s" "none (timed out; events: $(cut -f1 "$TMP/sse.events" | tr '\n' ' '))"; fi
  fail "a terminal event (completed, failed or cancelled) before the stream closed" "none (events: $(cut -f1 "$TMP/sse.events" | tr '\n' ' '))"
fi
((N_TERMINAL == 1)) || fail "exactly one terminal event" "$N_TERMINAL"
((SSE_RC == 0)) || fail "a clean close after the terminal event" "curl exit $SSE_RC: $(short "$TMP/sse.err")"
LAST=$(grep -v '^retry	' "$TMP/sse.events" | tail -n 1)
TERMINAL=$(cut -f1 <<<"$LAST")
is_terminal "$TERMINAL" || fail "the terminal event last" "'$TERMINAL' after it"
TERMINAL_ID=$(cut -f2 <<<"$LAST")
PREV=-1
N_EVENTS=0
while IFS=$'\t' read -r ev id data; do
  [[ "$ev" == retry ]] && continue
  N_EVENTS=$((N_EVENTS + 1))
  [[ "$id" =~ ^[0-9]+$ ]] || fail "a numeric id on every event" "'$id' on '$ev'"
  ((id > PREV)) || fail "increasing ids" "$id after $PREV"
  PREV=$id
  jq -e --arg t "$TASK_ID" '.task_id == $t and (.status | type) == "string"' <<<"$data" >/dev/null 2>&1 ||
    fail "a snapshot of task $TASK_ID as data of '$ev' (id $id)" "${data:0:200}"
done <"$TMP/sse.events"
TERMINAL_DATA=$(tail -n 1 <<<"$LAST" | cut -f3-)
[[ "$(jq -r .status <<<"$TERMINAL_DATA")" == "$TERMINAL" ]] ||
  fail "status '$TERMINAL' in the '$TERMINAL' event" "$(jq -r .status <<<"$TERMINAL_DATA")"
# A reconnect at the terminal id gets 204 (what stops an EventSource); by ?access_token= when set.
RECONNECT="$EVENTS_URL?last_event_id=$TERMINAL_ID"
[[ -n "$API_TOKEN" ]] && RECONNECT="$RECONNECT&access_token=$(jq -rn --arg t "$API_TOKEN" '$t | @uri')"
if ! CODE=$(curl -sS -N --max-time "$CURL_TIMEOUT" -o "$TMP/body" -w '%{http_code}' "$RECONNECT" 2>"$TMP/curl.err"); then
  fail "an answer to the reconnect" "no answer: $(short "$TMP/curl.err")"
fi
[[ "$CODE" == 204 ]] || fail "HTTP 204 on a reconnect with last_event_id=$TERMINAL_ID${API_TOKEN:+ and ?access_token=}" "HTTP $CODE $(short "$TMP/body")"
ok "retry, $N_EVENTS events, ids increasing to $TERMINAL_ID, one '$TERMINAL', closed ($((SECONDS - SSE_START)) s); reconnect 204"

# 4. Polling: terminal status, no-store, an ETag and 304 on If-None-Match.
step 4 status
DEADLINE=$((SECONDS + POLL_TIMEOUT))
while :; do
  req GET "$STATUS_URL"
  expect_status 200
  check ".task_id == \"$TASK_ID\"" "the snapshot of task $TASK_ID"
  STATUS=$(jqr .status)
  [[ "$(header Cache-Control)" == *no-store* ]] || fail "Cache-Control: no-store" "'$(header Cache-Control)'"
  ETAG=$(header ETag)
  [[ -n "$ETAG" ]] || fail "an ETag header" "none"
  is_terminal "$STATUS" && break
  [[ "$(header Retry-After)" == 1 ]] || fail "Retry-After: 1 while $STATUS" "'$(header Retry-After)'"
  ((SECONDS < DEADLINE)) || fail "a terminal status within POLL_TIMEOUT=${POLL_TIMEOUT}s" "$STATUS"
  sleep 0.5
done
[[ "$STATUS" == "$TERMINAL" ]] || fail "status '$TERMINAL' (as the stream ended)" "'$STATUS'"
if [[ "$STATUS" != completed ]]; then
  fail "the scan of $DATASET to complete" "$STATUS: $(jq -c '.error // .message' "$TMP/body")"
fi
check '.progress == 100 and (.summary | type) == "object" and .error == null and (.files_done | type) == "number" and (.files_failed | type) == "number"' \
  'a completed snapshot (progress 100, summary, files_done, files_failed, error null)'
FILES_DONE=$(jqr .files_done)
FILES_FAILED=$(jqr .files_failed)
SPEAKERS=$(jqr '.summary.speakers // empty')
req GET "$STATUS_URL" -H "If-None-Match: $ETAG"
expect_status 304
ok "completed: $FILES_DONE files, $FILES_FAILED failed; no-store, ETag $ETAG, If-None-Match → 304"

# 5. A page of results, the next page, and the failed rows.
step 5 results
req GET "$RESULTS_URL?limit=5"
expect_status 200
check '(.items | type) == "array" and (.items | length) <= 5 and has("next_cursor") and (.next_cursor == null or (.next_cursor | type) == "string")' \
  '{items: [≤ 5 rows], next_cursor: string|null}'
check 'all(.items[]; (.path | type) == "string" and has("error"))' 'rows with path and error'
N_PAGE=$(jqr '.items | length')
CURSOR=$(jqr '.next_cursor // empty')
if ((FILES_DONE > 5)); then
  ((N_PAGE == 5)) || fail "5 rows (the scan has $FILES_DONE)" "$N_PAGE"
  [[ -n "$CURSOR" ]] || fail "a next_cursor (the scan has $FILES_DONE rows)" "null"
  req GET "$RESULTS_URL?limit=5&cursor=$CURSOR"
  expect_status 200
  check '(.items | length) > 0' 'a second page'
elif ((FILES_DONE > 0)); then
  ((N_PAGE == FILES_DONE)) || fail "$FILES_DONE rows" "$N_PAGE"
fi
req GET "$RESULTS_URL?only=failed&limit=1000"
expect_status 200
N_FAILED=$(jqr '.items | length')
if ((FILES_FAILED <= 1000)); then
  ((N_FAILED == FILES_FAILED)) || fail "$FILES_FAILED failed rows (files_failed)" "$N_FAILED"
fi
check 'all(.items[]; (.error.code | type) == "string")' 'an error.code on every failed row'
ok "$N_PAGE rows, next_cursor $([[ -n "$CURSOR" ]] && echo set || echo null); $N_FAILED failed rows ($(jq -r '[.items[].error.code] | unique | join(",")' "$TMP/body"))"

# 6. The speakers.
step 6 speakers
req GET "$API/scan-speakers/$TASK_ID"
expect_status 200
check ".task_id == \"$TASK_ID\" and (.items | type) == \"array\"" "{task_id: \"$TASK_ID\", items: [...]}"
check 'all(.items[]; (.speaker_id | type) == "string")' 'a speaker_id on every item'
N_SPEAKERS=$(jqr '.items | length')
if [[ -n "$SPEAKERS" ]]; then
  ((N_SPEAKERS == SPEAKERS)) || fail "$SPEAKERS speakers (summary.speakers)" "$N_SPEAKERS"
fi
ok "$N_SPEAKERS speakers"

# 7. Cancel a scan while it runs: 200 cancelled (or 202, then it ends cancelled); cancelling the
#    ended task again is 409 TASK_NOT_ACTIVE. A small tree is scanned in a few milliseconds once
#    cached, before any cancel can land; then that 409 is the right answer, and we try again with
#    a burst of scans submitted over one connection, cancelled last first over another: the last
#    ones are still queued behind the others (MAX_CONCURRENT_SCANS) when their cancel arrives.
step 7 cancel
BODY=$(jq -cn --arg p "$DATASET" '{libritts_path: $p, analysis: "full"}')
CANCELLED=""
CANCEL_CODE=""
RACES=0
# judge_cancel ID CODE BODY_FILE: checks one cancel answer; true if it cancelled the task.
judge_cancel() {
  cp "$3" "$TMP/body"
  CODE=$2
  if [[ "$CODE" == 409 ]]; then
    expect_error 409 TASK_NOT_ACTIVE
    RACES=$((RACES + 1))
    return 1
  fi
  expect_status 200 202
  check ".task_id == \"$1\"" "the snapshot of task $1"
  if [[ "$CODE" == 200 ]]; then
    [[ "$(jqr .status)" == cancelled ]] || fail "status 'cancelled' with 200" "'$(jqr .status)'"
  fi
  return 0
}
# One scan, cancelled at once.
submit
expect_status 202
read -r line <"$TMP/body" || true
[[ "$line" =~ \"task_id\":\"([^\"]+)\" ]] || fail "a task_id in the 202 answer" "${line:0:200}"
CID=${BASH_REMATCH[1]}
req POST "$API/scan-cancel/$CID"
cp "$TMP/body" "$TMP/cancel.1"
if judge_cancel "$CID" "$CODE" "$TMP/cancel.1"; then CANCELLED=$CID CANCEL_CODE=$CODE; fi
TRIES=1
for n in 8 24 48; do
  [[ -z "$CANCELLED" ]] || break
  TRIES=$((TRIES + n))
  args=()
  for ((i = 1; i <= n; i++)); do
    ((i == 1)) || args+=(--next)
    args+=(-X POST "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary "$BODY" -o "$TMP/burst.$i" -w '%{http_code} ' "$API/scan-libritts")
  done
  CODES=$(curl -sS --max-time "$CURL_TIMEOUT" "${args[@]}" 2>"$TMP/curl.err") || fail "answers to $n scans" "no answer: $(short "$TMP/curl.err")"
  for c in $CODES; do [[ "$c" == 202 ]] || fail "HTTP 202 for each of $n scans" "$CODES"; done
  # The ids, last first, read without a process per file: every millisecond counts here.
  IDS=()
  for ((i = n; i >= 1; i--)); do
    line=""
    read -r line <"$TMP/burst.$i" || true
    [[ "$line" =~ \"task_id\":\"([^\"]+)\" ]] || fail "a task_id in each 202 answer" "${line:0:200}"
    IDS+=("${BASH_REMATCH[1]}")
  done
  args=()
  for ((i = 0; i < n; i++)); do
    ((i == 0)) || args+=(--next)
    args+=(-X POST "${AUTH[@]}" -o "$TMP/cancel.$i" -w '%{http_code} ' "$API/scan-cancel/${IDS[$i]}")
  done
  CODES=$(curl -sS --max-time "$((CURL_TIMEOUT * 2))" "${args[@]}" 2>"$TMP/curl.err") || fail "answers to $n cancels" "no answer: $(short "$TMP/curl.err")"
  read -r -a CODE_LIST <<<"$CODES"
  for ((i = 0; i < n; i++)); do
    if judge_cancel "${IDS[$i]}" "${CODE_LIST[$i]:-none}" "$TMP/cancel.$i" && [[ -z "$CANCELLED" ]]; then
      CANCELLED=${IDS[$i]} CANCEL_CODE=${CODE_LIST[$i]}
    fi
  done
done
[[ -n "$CANCELLED" ]] || fail "a scan still queued or running when its cancel arrived ($TRIES tries)" "each had completed (409 TASK_NOT_ACTIVE)"
if [[ "$CANCEL_CODE" == 202 ]]; then
  DEADLINE=$((SECONDS + POLL_TIMEOUT))
  while :; do
    req GET "$API/scan-status/$CANCELLED"
    expect_status 200
    is_terminal "$(jqr .status)" && break
    ((SECONDS < DEADLINE)) || fail "the cancelled task to end within POLL_TIMEOUT=${POLL_TIMEOUT}s" "$(jqr .status)"
    sleep 0.5
  done
fi
req GET "$API/scan-status/$CANCELLED"
expect_status 200
[[ "$(jqr .status)" == cancelled ]] || fail "task $CANCELLED to end 'cancelled' (cancel answered $CANCEL_CODE)" "'$(jqr .status)'"
req POST "$API/scan-cancel/$CANCELLED"
expect_error 409 TASK_NOT_ACTIVE
NOTE=""
((RACES == 0)) || NOTE=" ($RACES other scans finished before their cancel: 409 TASK_NOT_ACTIVE)"
ok "task $CANCELLED cancelled ($CANCEL_CODE)$NOTE; cancel again → 409 TASK_NOT_ACTIVE"

# 8. Bad input: the exact status and code, and the error shape everywhere.
step 8 errors
post_raw() { req POST "$API/scan-libritts" -H 'Content-Type: application/json' --data-binary "$1"; }
post_raw '{"libritts_path": "relative/LibriTTS", "analysis": "full"}'
expect_error 400 VALIDATION_FAILED
check 'any(.issues[]; .path == "libritts_path" and (.message | type) == "string")' 'an issue on libritts_path'
post_raw '{"analysis": "full"}'
expect_error 400 VALIDATION_FAILED
check 'any(.issues[]; .path == "libritts_path")' 'an issue on libritts_path'
post_raw '{"libritts_path": '
expect_error 400 INVALID_JSON
UNKNOWN=00000000-0000-4000-8000-000000000000
req GET "$API/scan-status/$UNKNOWN"
expect_error 404 TASK_NOT_FOUND
req GET "$API/scan-status/not-a-task-id"
expect_error 404 TASK_NOT_FOUND
req GET "$API/scan-events/$UNKNOWN" -N
expect_error 404 TASK_NOT_FOUND
[[ "$(header Content-Type)" == application/json* ]] || fail "a JSON 404 for the events of an unknown task" "Content-Type '$(header Content-Type)'"
CHECKED="relative path, missing path → 400 VALIDATION_FAILED; bad JSON → 400 INVALID_JSON; unknown/malformed task → 404 TASK_NOT_FOUND"
if [[ -n "$API_TOKEN" ]]; then
  # Without the token (curl directly, not through req, which would add it).
  CODE=$(curl -sS --max-time "$CURL_TIMEOUT" -D "$TMP/headers" -o "$TMP/body" -w '%{http_code}' "$API/scans" 2>"$TMP/curl.err") ||
    fail "an answer from GET $API/scans" "no answer: $(short "$TMP/curl.err")"
  expect_error 401 UNAUTHORIZED
  CHECKED="$CHECKED; no token → 401 UNAUTHORIZED"
fi
ok "$CHECKED"

echo "test_api: all $TOTAL_STEPS steps passed"
