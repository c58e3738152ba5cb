-- validate design
SELECT
  "t1"."key_0",
  "t1"."key_1",
  SUM("t1"."rows") AS "rows",
  SUM(CASE WHEN "t1"."key_2" IS NULL THEN "t1"."rows" ELSE 0 END) AS "clusternulls",
  COUNT("t1"."key_2") AS "clusters"
FROM (
  SELECT
    "t0"."assigned" AS "key_0",
    "t0"."used" AS "key_1",
    "t0"."team_id" AS "key_2",
    COUNT(*) AS "rows"
  FROM "memory"."main"."experiment" AS "t0"
  GROUP BY
    1,
    2,
    3
) AS "t1"
GROUP BY
  1,
  2
LIMIT 1001;
