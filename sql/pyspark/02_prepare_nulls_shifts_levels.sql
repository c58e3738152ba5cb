-- prepare (NULLs, shifts, levels)
SELECT
  COUNT(*) AS `n`,
  SUM(CAST(`t0`.`resolved` IS NULL AS BIGINT)) AS `nulls_0`,
  AVG(CAST(`t0`.`resolved` AS DOUBLE)) AS `mean_0`,
  APPROX_COUNT_DISTINCT(`t0`.`resolved`) AS `distinct_0`,
  SUM(CAST(`t0`.`minutes` IS NULL OR ISNAN(`t0`.`minutes`) AS BIGINT)) AS `nulls_1`,
  SUM(CAST(ISNAN(`t0`.`minutes`) AS BIGINT)) AS `nans_1`,
  AVG(`t0`.`minutes`) AS `mean_1`,
  APPROX_COUNT_DISTINCT(`t0`.`minutes`) AS `distinct_1`,
  SUM(CAST(`t0`.`csat` IS NULL OR ISNAN(`t0`.`csat`) AS BIGINT)) AS `nulls_2`,
  SUM(CAST(ISNAN(`t0`.`csat`) AS BIGINT)) AS `nans_2`,
  AVG(`t0`.`csat`) AS `mean_2`,
  APPROX_COUNT_DISTINCT(`t0`.`csat`) AS `distinct_2`,
  SUM(CAST(`t0`.`pre_resolution` IS NULL OR ISNAN(`t0`.`pre_resolution`) AS BIGINT)) AS `nulls_3`,
  SUM(CAST(ISNAN(`t0`.`pre_resolution`) AS BIGINT)) AS `nans_3`,
  AVG(`t0`.`pre_resolution`) AS `mean_3`,
  APPROX_COUNT_DISTINCT(`t0`.`pre_resolution`) AS `distinct_3`,
  SUM(CAST(`t0`.`tenure` IS NULL OR ISNAN(`t0`.`tenure`) AS BIGINT)) AS `nulls_4`,
  SUM(CAST(ISNAN(`t0`.`tenure`) AS BIGINT)) AS `nans_4`,
  AVG(`t0`.`tenure`) AS `mean_4`,
  APPROX_COUNT_DISTINCT(`t0`.`tenure`) AS `distinct_4`,
  SUM(CAST(`t0`.`region` IS NULL AS BIGINT)) AS `nulls_5`
FROM `memory`.`main`.`experiment` AS `t0`;
