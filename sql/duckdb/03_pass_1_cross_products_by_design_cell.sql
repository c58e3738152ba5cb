-- pass 1: cross products by design cell
SELECT
  "t0"."used" AS "k_0",
  "t0"."assigned" AS "k_1",
  "t0"."region" AS "k_2",
  COUNT(*) AS "n",
  CAST(COUNT(*) AS DOUBLE) AS "sw",
  CAST(COUNT(*) AS DOUBLE) AS "sw2",
  COUNT(*) - COUNT("t0"."pre_resolution") AS "nulls_0",
  SUM("t0"."pre_resolution" - 0.698983) AS "s_0",
  COUNT(*) - COUNT("t0"."tenure") AS "nulls_1",
  SUM("t0"."tenure" - 2.99786) AS "s_1",
  COUNT(*) - COUNT("t0"."resolved") AS "nulls_2",
  SUM(CAST("t0"."resolved" - 1 AS DOUBLE)) AS "s_2",
  COUNT(*) - COUNT("t0"."minutes") AS "nulls_3",
  SUM("t0"."minutes" - 28.794213) AS "s_3",
  COUNT(*) - COUNT("t0"."csat") AS "nulls_4",
  SUM("t0"."csat" - 4.0331804) AS "s_4",
  SUM((
    "t0"."pre_resolution" - 0.698983
  ) * (
    "t0"."pre_resolution" - 0.698983
  )) AS "ss_0_0",
  SUM((
    "t0"."pre_resolution" - 0.698983
  ) * (
    "t0"."tenure" - 2.99786
  )) AS "ss_0_1",
  SUM((
    "t0"."pre_resolution" - 0.698983
  ) * CAST("t0"."resolved" - 1 AS DOUBLE)) AS "ss_0_2",
  SUM((
    "t0"."pre_resolution" - 0.698983
  ) * (
    "t0"."minutes" - 28.794213
  )) AS "ss_0_3",
  SUM((
    "t0"."pre_resolution" - 0.698983
  ) * (
    "t0"."csat" - 4.0331804
  )) AS "ss_0_4",
  SUM((
    "t0"."tenure" - 2.99786
  ) * (
    "t0"."tenure" - 2.99786
  )) AS "ss_1_1",
  SUM((
    "t0"."tenure" - 2.99786
  ) * CAST("t0"."resolved" - 1 AS DOUBLE)) AS "ss_1_2",
  SUM((
    "t0"."tenure" - 2.99786
  ) * (
    "t0"."minutes" - 28.794213
  )) AS "ss_1_3",
  SUM((
    "t0"."tenure" - 2.99786
  ) * (
    "t0"."csat" - 4.0331804
  )) AS "ss_1_4",
  SUM(CAST("t0"."resolved" - 1 AS DOUBLE) * CAST("t0"."resolved" - 1 AS DOUBLE)) AS "ss_2_2",
  SUM(CAST("t0"."resolved" - 1 AS DOUBLE) * (
    "t0"."minutes" - 28.794213
  )) AS "ss_2_3",
  SUM(CAST("t0"."resolved" - 1 AS DOUBLE) * (
    "t0"."csat" - 4.0331804
  )) AS "ss_2_4",
  SUM((
    "t0"."minutes" - 28.794213
  ) * (
    "t0"."minutes" - 28.794213
  )) AS "ss_3_3",
  SUM((
    "t0"."minutes" - 28.794213
  ) * (
    "t0"."csat" - 4.0331804
  )) AS "ss_3_4",
  SUM((
    "t0"."csat" - 4.0331804
  ) * (
    "t0"."csat" - 4.0331804
  )) AS "ss_4_4"
FROM "memory"."main"."experiment" AS "t0"
GROUP BY
  1,
  2,
  3
LIMIT 100001;
