# Sourced by the demo scripts: starts ftd for a demo as in production (a token file with one admin
# token made for the demo, which ftctl sends from $FTD_TOKEN; datasets only from --data-root
# folders) and stops it when the script exits.
#   start_demo_ftd DATA_ROOT...   then build/bin/ftctl talks to it through $FT_SERVER.
start_demo_ftd() {
  HOME_DIR=${FT_HOME:-$PWD/.ftd-demo}
  PORT=${PORT:-50051}
  METRICS_PORT=${METRICS_PORT:-9464}
  mkdir -p "$HOME_DIR"
  TOKEN_FILE="$HOME_DIR/tokens"
  if [[ ! -s "$TOKEN_FILE" ]]; then
    (umask 077; echo "demo-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') demo admin" >"$TOKEN_FILE")
  fi
  export FTD_TOKEN=$(awk '!/^#/ && NF == 3 {print $1; exit}' "$TOKEN_FILE")
  local roots=()
  for path in "$@"; do
    [[ -d "$path" ]] && roots+=(--data-root "$path")
  done
  rm -f "$HOME_DIR.ports"  # a stale one would let ftctl start before ftd listens
  build/bin/ftd --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$METRICS_PORT" \
    --home "$HOME_DIR" --port-file "$HOME_DIR.ports" --token-file "$TOKEN_FILE" "${roots[@]}" \
    >"$HOME_DIR.log" 2>&1 &
  FTD_PID=$!
  trap 'kill $FTD_PID 2>/dev/null; wait $FTD_PID 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [[ -s "$HOME_DIR.ports" ]] && break; sleep 0.1; done
  echo "ftd is up (pid $FTD_PID): API 127.0.0.1:$PORT, metrics http://127.0.0.1:$METRICS_PORT/metrics, log $HOME_DIR.log"
  export FT_SERVER="127.0.0.1:$PORT"
}
