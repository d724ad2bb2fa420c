#!/usr/bin/env bash
# Backend CPU time per transaction (µs), from /proc/self/schedstat of the one backend
# that runs single-row transactions: resists the load of other processes better than
# wall-clock time. Runs CHUNKS chunks of N transactions and prints "min median" of the
# per-chunk figures (the minimum is the least disturbed by other processes).
# usage: cpu.sh URL TABLE OP CONTEXT N [SEED] [CHUNKS]
#   OP: insert|update|delete, CONTEXT: 1 to call audit.set_context in every transaction
set -euo pipefail
url=$1 table=$2 op=$3 ctx=$4 n=$5 seed=${6:-1} chunks=${7:-5}
{
  echo "\\set QUIET on"
  echo "PREPARE i AS INSERT INTO $table (account_id, sku, name, qty, price, status, note) VALUES (\$1, 'SKU-x', 'a new item', 3, 9.99, 'active', NULL);"
  echo "PREPARE u(bigint) AS UPDATE $table SET qty = qty + 1, updated_at = now() WHERE id = \$1;"
  echo "PREPARE d(bigint) AS DELETE FROM $table WHERE id = \$1;"
  [ "$ctx" = 1 ] && echo "PREPARE c AS SELECT audit.set_context('user-42', '10.0.0.1', NULL);"
  echo "CREATE TEMP TABLE cpu_chunk (us numeric);"
  awk -v n="$n" -v seed="$seed" -v op="$op" -v ctx="$ctx" -v chunks="$chunks" 'BEGIN {
    srand(seed);
    for (c = 0; c <= chunks; c++) {
      print "SELECT split_part(pg_read_file(\x27/proc/self/schedstat\x27), \x27 \x27, 1)::bigint AS t0 \\gset";
      for (k = 0; k < n; k++) {
        id = int(rand() * 100000) + 1;
        if (op == "delete") id = 100000 - (seed * 7919 + c * n + k) % 100000;
        s = (ctx == 1) ? "EXECUTE c; " : "";
        if (op == "insert") s = s "EXECUTE i(" id % 1000 ");";
        else if (op == "update") s = s "EXECUTE u(" id ");";
        else s = s "EXECUTE d(" id ");";
        print "BEGIN; " s " COMMIT;";
      }
      # chunk 0 is a warm-up
      if (c > 0) print "INSERT INTO cpu_chunk SELECT (split_part(pg_read_file(\x27/proc/self/schedstat\x27), \x27 \x27, 1)::bigint - :t0) / " n " / 1000.0;";
    }
  }'
  echo "\\set QUIET off"
  echo "SELECT round(min(us), 1) || ' ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 1) FROM cpu_chunk;"
} | PGOPTIONS="-c synchronous_commit=off" psql -X -q -At "$url" | tail -1
