-- validate design
SELECT
  "t0"."assigned",
  "t0"."used",
  COUNT(*) AS "n",
  SUM(CAST("t0"."team_id" IS NULL AS BIGINT)) AS "cluster_nulls",
  COUNT(DISTINCT "t0"."team_id") AS "clusters"
FROM "memory"."main"."experiment" AS "t0"
GROUP BY
  1,
  2
LIMIT 1001;
