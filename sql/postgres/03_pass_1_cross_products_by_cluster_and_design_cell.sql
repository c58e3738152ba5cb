-- pass 1: cross products by cluster and design cell
SELECT
  *
FROM (
  SELECT
    "t0"."team_id" AS "key_0",
    "t0"."used" AS "key_1",
    "t0"."assigned" AS "key_2",
    "t0"."region" AS "key_3",
    COUNT(*) AS "rows",
    CAST(COUNT(*) AS DOUBLE PRECISION) AS "weight",
    CAST(COUNT(*) AS DOUBLE PRECISION) AS "weightsquared",
    COUNT(*) - COUNT("t0"."pre_resolution") AS "nulls_0",
    COUNT(*) - COUNT("t0"."tenure") AS "nulls_1",
    COUNT(*) - COUNT("t0"."resolved") AS "nulls_2",
    COUNT(*) - COUNT("t0"."minutes") AS "nulls_3",
    COUNT(*) - COUNT("t0"."csat") AS "nulls_4",
    SUM("t0"."pre_resolution" - 0.698983) AS "sum_0",
    SUM("t0"."tenure" - 2.99786) AS "sum_1",
    SUM(CAST("t0"."resolved" - 1 AS DOUBLE PRECISION)) AS "sum_2",
    SUM("t0"."minutes" - 28.794213) AS "sum_3",
    SUM("t0"."csat" - 4.0331804) AS "sum_4",
    SUM((
      "t0"."pre_resolution" - 0.698983
    ) * (
      "t0"."pre_resolution" - 0.698983
    )) AS "product_0",
    SUM((
      "t0"."pre_resolution" - 0.698983
    ) * (
      "t0"."tenure" - 2.99786
    )) AS "product_1",
    SUM(
      (
        "t0"."pre_resolution" - 0.698983
      ) * CAST("t0"."resolved" - 1 AS DOUBLE PRECISION)
    ) AS "product_2",
    SUM((
      "t0"."pre_resolution" - 0.698983
    ) * (
      "t0"."minutes" - 28.794213
    )) AS "product_3",
    SUM((
      "t0"."pre_resolution" - 0.698983
    ) * (
      "t0"."csat" - 4.0331804
    )) AS "product_4",
    SUM((
      "t0"."tenure" - 2.99786
    ) * (
      "t0"."tenure" - 2.99786
    )) AS "product_5",
    SUM((
      "t0"."tenure" - 2.99786
    ) * CAST("t0"."resolved" - 1 AS DOUBLE PRECISION)) AS "product_6",
    SUM((
      "t0"."tenure" - 2.99786
    ) * (
      "t0"."minutes" - 28.794213
    )) AS "product_7",
    SUM((
      "t0"."tenure" - 2.99786
    ) * (
      "t0"."csat" - 4.0331804
    )) AS "product_8",
    SUM(
      CAST("t0"."resolved" - 1 AS DOUBLE PRECISION) * CAST("t0"."resolved" - 1 AS DOUBLE PRECISION)
    ) AS "product_9",
    SUM(CAST("t0"."resolved" - 1 AS DOUBLE PRECISION) * (
      "t0"."minutes" - 28.794213
    )) AS "product_10",
    SUM(CAST("t0"."resolved" - 1 AS DOUBLE PRECISION) * (
      "t0"."csat" - 4.0331804
    )) AS "product_11",
    SUM((
      "t0"."minutes" - 28.794213
    ) * (
      "t0"."minutes" - 28.794213
    )) AS "product_12",
    SUM((
      "t0"."minutes" - 28.794213
    ) * (
      "t0"."csat" - 4.0331804
    )) AS "product_13",
    SUM((
      "t0"."csat" - 4.0331804
    ) * (
      "t0"."csat" - 4.0331804
    )) AS "product_14"
  FROM "memory"."main"."experiment" AS "t0"
  GROUP BY
    1,
    2,
    3,
    4
) AS "t1"
ORDER BY
  "t1"."key_0" ASC,
  "t1"."key_1" ASC,
  "t1"."key_2" ASC,
  "t1"."key_3" ASC
LIMIT 2000001;
