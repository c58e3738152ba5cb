-- probe (first 10,000 rows: shifts)
SELECT
  COUNT(*) AS `n`,
  COUNT(DISTINCT `t2`.`c_0`) AS `levels_0`,
  AVG(`t2`.`v_0`) AS `mean_0`,
  STDDEV_POP(`t2`.`v_0`) AS `sd_0`,
  COUNT(DISTINCT `t2`.`v_0`) AS `distinct_0`,
  AVG(`t2`.`v_1`) AS `mean_1`,
  STDDEV_POP(`t2`.`v_1`) AS `sd_1`,
  COUNT(DISTINCT `t2`.`v_1`) AS `distinct_1`,
  AVG(`t2`.`v_2`) AS `mean_2`,
  STDDEV_POP(`t2`.`v_2`) AS `sd_2`,
  AVG(`t2`.`v_3`) AS `mean_3`,
  STDDEV_POP(`t2`.`v_3`) AS `sd_3`,
  AVG(`t2`.`v_4`) AS `mean_4`,
  STDDEV_POP(`t2`.`v_4`) AS `sd_4`,
  MIN(`t2`.`r_2`) AS `min_2`
FROM (
  SELECT
    `t0`.`pre_resolution` AS `v_0`,
    `t0`.`tenure` AS `v_1`,
    CAST(`t0`.`resolved` AS DOUBLE) AS `v_2`,
    `t0`.`minutes` AS `v_3`,
    `t0`.`csat` AS `v_4`,
    `t0`.`resolved` AS `r_2`,
    `t0`.`region` AS `c_0`
  FROM `memory`.`main`.`experiment` AS `t0`
  LIMIT 10000
) AS `t2`;
