-- levels of region
SELECT
  *
FROM (
  SELECT
    "t1"."level",
    COUNT(*) AS "n"
  FROM (
    SELECT
      "t0"."region" AS "level"
    FROM "memory"."main"."experiment" AS "t0"
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."level" ASC
LIMIT 51;
