#!/usr/bin/env bash
# The Spark engine end to end as a user runs it: the fat jar (mvn -Pspark-dist), a Spark standalone master and two
# workers on 127.0.0.1 started from a Spark distribution's jars, `spark-submit` of `rlsr train --rollout-engine
# spark`, compared with the local engine; then the same with one executor killed (SIGKILL) mid-iteration.
#
#   scripts/spark-standalone.sh [OUT]      (default OUT: /tmp/rlsr-spark-standalone; nothing is left running)
#
# Environment: MODEL (default models/demo-base), DATA (default ../shared/data/tiny/sft.jsonl, else a built-in one),
# ITERATIONS (3), PROMPTS (8), GENERATIONS (8), NEW_TOKENS (64), WORKERS (2), WORKER_MEMORY (3g), EXECUTOR_MEMORY
# (2g), DRIVER_MEMORY (4g), TRAIN_ARGS (more flags for every run), COMPARE=0 (the Spark run alone: no local run, no
# comparison, no kill; for measuring at real size).
# There is no Spark distribution to download here, so its jars come from Maven (the spark-core_2.13 artifact and
# its dependencies, what a distribution's jars/ holds for the core) and `spark-submit` is the class it runs,
# org.apache.spark.deploy.SparkSubmit; with a real distribution use $SPARK_HOME/sbin/start-master.sh,
# start-worker.sh and bin/spark-submit with the same arguments.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-/tmp/rlsr-spark-standalone}"
MODEL="${MODEL:-$ROOT/models/demo-base}"
DATA="${DATA:-$ROOT/../shared/data/tiny/sft.jsonl}"
ITERATIONS="${ITERATIONS:-3}"
PROMPTS="${PROMPTS:-8}"
GENERATIONS="${GENERATIONS:-8}"
NEW_TOKENS="${NEW_TOKENS:-64}"
DRIVER_MEMORY="${DRIVER_MEMORY:-4g}"
COMPARE="${COMPARE:-1}"
WORKERS="${WORKERS:-2}"
WORKER_MEMORY="${WORKER_MEMORY:-3g}"
EXECUTOR_MEMORY="${EXECUTOR_MEMORY:-2g}"
SPARK_VERSION="$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$ROOT/rl/spark/pom.xml")"
JAR="$ROOT/rl/spark/target/rlsr-spark-0.1.0-SNAPSHOT-all.jar"
OPTS="@$ROOT/rl/spark/java17-options.txt"
rm -rf "$OUT"
mkdir -p "$OUT"
if [[ ! -f "$DATA" ]]; then
  DATA="$OUT/data.jsonl"
  for i in $(seq 1 16); do
    echo "{\"prompt\":\"Say where Tom the chef number $i works.\",\"response\":\"Tom is a chef who works in a restaurant.\"}"
  done > "$DATA"
fi

echo "== building the fat jar (mvn -Pspark-dist package)"
t0=$(date +%s)
(cd "$ROOT" && mvn -B -q -ntp -Pspark-dist -pl rl/spark -am package -DskipTests)
echo "   $JAR: $(du -m "$JAR" | cut -f1) MB, $(( $(date +%s) - t0 )) s"

echo "== a Spark $SPARK_VERSION distribution's jars (spark-core_2.13 and its dependencies, from Maven)"
DIST="$OUT/spark-home"
mkdir -p "$DIST/jars" "$OUT/dist-pom"
cat > "$OUT/dist-pom/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>spark-dist</artifactId><version>1</version>
  <!-- the Jackson of Spark $SPARK_VERSION's own distribution (its pom's fasterxml.jackson.version) -->
  <dependencyManagement><dependencies>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-core</artifactId><version>2.18.2</version></dependency>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>2.18.2</version></dependency>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-annotations</artifactId><version>2.18.2</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies><dependency><groupId>org.apache.spark</groupId><artifactId>spark-core_2.13</artifactId>
    <version>$SPARK_VERSION</version></dependency></dependencies></project>
EOF
(cd "$OUT/dist-pom" && mvn -B -q -ntp dependency:build-classpath -Dmdep.outputFile="$OUT/spark-classpath.txt")
tr ':' '\n' < "$OUT/spark-classpath.txt" | while read -r j; do ln -sf "$j" "$DIST/jars/"; done
echo "   $(ls "$DIST/jars" | wc -l) jars in $DIST/jars"

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do
    pkill -KILL -P "$p" 2>/dev/null || true
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT
export SPARK_HOME="$DIST" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
MASTER="spark://127.0.0.1:$PORT"
echo "== master $MASTER and $WORKERS workers (1 core, $WORKER_MEMORY each), separate JVMs"
java -Xmx512m $OPTS -cp "$DIST/jars/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" \
  --webui-port "$(free_port)" > "$OUT/master.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.3; done
for w in $(seq 1 "$WORKERS"); do
  mkdir -p "$OUT/worker-$w"
  java -Xmx512m $OPTS -cp "$DIST/jars/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
    --memory "$WORKER_MEMORY" --work-dir "$OUT/worker-$w" --webui-port "$(free_port)" "$MASTER" \
    > "$OUT/worker-$w.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 1 100); do
  [[ "$(grep -c 'Registering worker' "$OUT/master.log" || true)" -ge "$WORKERS" ]] && break
  sleep 0.3
done
echo "   $(grep -c 'Registering worker' "$OUT/master.log") workers registered"

ARGS=(train --model "$MODEL" --data "$DATA" --iterations "$ITERATIONS" --prompts-per-iteration "$PROMPTS"
  --num-generations "$GENERATIONS" --max-prompt-length 192 --max-completion-length "$NEW_TOKENS" --learning-rate 1e-3
  --threads 1 --log-completions $((PROMPTS * GENERATIONS)) --generation-batch-size "$GENERATIONS" ${TRAIN_ARGS:-})

if [[ "$COMPARE" == 1 ]]; then
echo "== the local engine, from the fat jar alone (java -jar)"
/usr/bin/time -f "   %e s, peak RSS %M KB" java -Xmx"$DRIVER_MEMORY" -jar "$JAR" "${ARGS[@]}" --out "$OUT/local" \
  > "$OUT/local.log" 2>&1 || { tail -20 "$OUT/local.log"; exit 1; }
tail -1 "$OUT/local.log" | sed 's/^/   /'
python3 - "$OUT/local/metrics.jsonl" <<'EOF'
import json, sys
for m in map(json.loads, open(sys.argv[1])):
    print("   iteration %d: seconds_iteration %.3f, rollout %.3f + reward %.3f, log-probs %.3f, update %.3f, sync %.3f" % (
        m["iteration"], m["seconds_iteration"], m["seconds_rollout"], m["seconds_reward"], m["seconds_logprobs"],
        m["seconds_update"], m["seconds_sync"]))
EOF
fi

submit() { # OUT_NAME
  /usr/bin/time -f "   %e s, peak RSS %M KB (the driver)" java -Xmx"$DRIVER_MEMORY" $OPTS -cp "$DIST/jars/*" org.apache.spark.deploy.SparkSubmit \
    --master "$MASTER" --deploy-mode client --class dev.rlsr.cli.Main \
    --conf spark.executor.memory="$EXECUTOR_MEMORY" --conf spark.driver.host=127.0.0.1 ${SUBMIT_CONF:-} \
    --conf spark.driver.bindAddress=127.0.0.1 \
    "$JAR" "${ARGS[@]}" --rollout-engine spark --rollout-partitions "$WORKERS" --out "$OUT/$1" > "$OUT/$1.log" 2>&1 \
    || { tail -30 "$OUT/$1.log"; exit 1; }
  tail -1 "$OUT/$1.log" | sed 's/^/   /'
}

compare() { # OUT_NAME
  python3 - "$OUT/local" "$OUT/$1" <<'EOF'
import json, struct, sys
import numpy as np
def weights(d):
    raw = open(d + "/model.safetensors", "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    return {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype=np.float32)
            for k, v in h.items() if k != "__metadata__"}
def rows(d):
    return [(r["iteration"], r["completion"], r["reward"]) for r in map(json.loads, open(d + "/completions.jsonl"))]
a, b = sys.argv[1], sys.argv[2]
wa, wb = weights(a), weights(b)
diff = max(float(np.abs(wa[k] - wb[k]).max()) for k in wa)
same = rows(a) == rows(b)
print(f"   {len(rows(b))} completions and rewards identical to the local engine's: {same}; max |w_local - w_spark| = {diff:.3g}")
for m in map(json.loads, open(b + "/metrics.jsonl")):
    keys = ["seconds_iteration", "spark_job_seconds", "spark_overhead_seconds",
            "spark_broadcast_seconds", "spark_executor_start_seconds", "spark_executor_fetch_seconds", "spark_executor_sync_seconds", "spark_executors"]
    print("   iteration %d: " % m["iteration"] + ", ".join("%s %.3f" % (k, m[k]) for k in keys))
sys.exit(0 if same and diff <= 1e-5 else 1)
EOF
}

echo "== spark-submit --master $MASTER (the driver here, the update on it; rollouts on the executors)"
submit standalone
if [[ "$COMPARE" != 1 ]]; then
  grep "spark: " "$OUT/standalone.log" | sed 's/^/   /'
  python3 - "$OUT/standalone/metrics.jsonl" <<'EOF'
import json, sys
for m in map(json.loads, open(sys.argv[1])):
    print("   iteration %d: " % m["iteration"] + ", ".join("%s %.3f" % (k, v) for k, v in m.items()
          if k.startswith("spark_") or k.startswith("seconds_")))
EOF
  echo "== done; logs in $OUT"
  exit 0
fi
compare standalone

echo "== the same, one executor killed (SIGKILL) when it starts a task of iteration 2"
ls "$OUT"/worker-*/app-*/*/stderr > "$OUT/earlier-executors.txt" 2>/dev/null || true
( for _ in $(seq 1 6000); do
    for f in "$OUT"/worker-*/app-*/*/stderr; do
      [[ -f "$f" ]] && ! grep -qxF "$f" "$OUT/earlier-executors.txt" || continue
      pid=$(grep -o "rlsr spark task: iteration 2, .*(pid [0-9]*)" "$f" | head -1 | sed 's/.*pid \([0-9]*\))/\1/') || true
      if [[ -n "$pid" ]]; then
        kill -KILL "$pid" && echo "   killed executor pid $pid ($f)"
        exit 0
      fi
    done
    sleep 0.05
  done ) &
KILLER=$!
submit killed
wait "$KILLER" || true
compare killed
echo "   executors launched for that run: $(ls "$OUT"/worker-*/app-*/*/stderr | grep -cvxFf "$OUT/earlier-executors.txt")"
echo "== done; logs in $OUT"
