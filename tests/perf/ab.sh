#!/usr/bin/env bash
# Interleaved comparison of single-row transactions on several tables in ONE backend:
# chunks of N transactions alternate between the tables (A B C A B C ...), so that the
# load of other processes hits every table alike. Prints, per table, the median backend
# CPU time per transaction in µs (from /proc/self/schedstat).
# usage: ab.sh URL OP CONTEXT N ROUNDS TABLE...   OP: insert|update|delete
set -euo pipefail
url=$1 op=$2 ctx=$3 n=$4 rounds=$5; shift 5
tables=("$@")
{
  echo "\\set QUIET on"
  echo "CREATE TEMP TABLE cpu_chunk (t text, us numeric);"
  [ "$ctx" = 1 ] && echo "PREPARE c AS SELECT audit.set_context('user-42', '10.0.0.1', NULL);"
  for t in "${tables[@]}"; do
    echo "PREPARE i_$t AS INSERT INTO $t (account_id, sku, name, qty, price, status, note) VALUES (\$1, 'SKU-x', 'a new item', 3, 9.99, 'active', NULL);"
    echo "PREPARE u_$t(bigint) AS UPDATE $t SET qty = qty + 1, updated_at = now() WHERE id = \$1;"
    echo "PREPARE d_$t(bigint) AS DELETE FROM $t WHERE id = \$1;"
  done
  awk -v n="$n" -v rounds="$rounds" -v op="$op" -v ctx="$ctx" -v tl="${tables[*]}" 'BEGIN {
    nt = split(tl, T, " "); srand(); del = int(rand() * 90000) + 1;
    for (r = 0; r <= rounds; r++) for (j = 1; j <= nt; j++) {
      t = T[j];
      print "SELECT split_part(pg_read_file(\x27/proc/self/schedstat\x27), \x27 \x27, 1)::bigint AS t0 \\gset";
      for (k = 0; k < n; k++) {
        id = int(rand() * 100000) + 1;
        if (op == "delete") id = del + r * n + k;
        s = (ctx == 1) ? "EXECUTE c; " : "";
        if (op == "insert") s = s "EXECUTE i_" t "(" id % 1000 ");";
        else if (op == "update") s = s "EXECUTE u_" t "(" id ");";
        else s = s "EXECUTE d_" t "(" id ");";
        print "BEGIN; " s " COMMIT;";
      }
      if (r > 0) print "INSERT INTO cpu_chunk SELECT \x27" t "\x27, (split_part(pg_read_file(\x27/proc/self/schedstat\x27), \x27 \x27, 1)::bigint - :t0) / " n " / 1000.0;";
    }
  }'
  echo "\\set QUIET off"
  echo "SELECT string_agg(t || ' ' || m, ' | ' ORDER BY t) FROM (SELECT t, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 1) AS m FROM cpu_chunk GROUP BY t) s;"
} | PGOPTIONS="-c synchronous_commit=off" psql -X -q -At "$url" | tail -1
