-- probe (first 10,000 rows: shifts)
SELECT
  COUNT(*) AS `rows`,
  COUNT(DISTINCT `t2`.`category_0`) AS `levels_0`,
  AVG(`t2`.`value_0`) AS `mean_0`,
  AVG(`t2`.`value_1`) AS `mean_1`,
  AVG(`t2`.`value_2`) AS `mean_2`,
  AVG(`t2`.`value_3`) AS `mean_3`,
  AVG(`t2`.`value_4`) AS `mean_4`,
  STDDEV_POP(
    IF(NOT (
      IS_NAN(`t2`.`value_0`) OR IS_INF(`t2`.`value_0`)
    ), `t2`.`value_0`, NULL)
  ) AS `sd_0`,
  STDDEV_POP(
    IF(NOT (
      IS_NAN(`t2`.`value_1`) OR IS_INF(`t2`.`value_1`)
    ), `t2`.`value_1`, NULL)
  ) AS `sd_1`,
  STDDEV_POP(
    IF(NOT (
      IS_NAN(`t2`.`value_2`) OR IS_INF(`t2`.`value_2`)
    ), `t2`.`value_2`, NULL)
  ) AS `sd_2`,
  STDDEV_POP(
    IF(NOT (
      IS_NAN(`t2`.`value_3`) OR IS_INF(`t2`.`value_3`)
    ), `t2`.`value_3`, NULL)
  ) AS `sd_3`,
  STDDEV_POP(
    IF(NOT (
      IS_NAN(`t2`.`value_4`) OR IS_INF(`t2`.`value_4`)
    ), `t2`.`value_4`, NULL)
  ) AS `sd_4`,
  COUNT(DISTINCT `t2`.`value_0`) AS `distinct_0`,
  COUNT(DISTINCT `t2`.`value_1`) AS `distinct_1`,
  MIN(`t2`.`integer_0`) AS `minimum_0`
FROM (
  SELECT
    `t0`.`pre_resolution` AS `value_0`,
    `t0`.`tenure` AS `value_1`,
    CAST(`t0`.`resolved` AS FLOAT64) AS `value_2`,
    `t0`.`minutes` AS `value_3`,
    `t0`.`csat` AS `value_4`,
    `t0`.`resolved` AS `integer_0`,
    `t0`.`region` AS `category_0`
  FROM `memory`.`main`.`experiment` AS `t0`
  LIMIT 10000
) AS `t2`;
