-- segments: sizes and covariate means
SELECT
  COUNT(*) AS `n_0`,
  CAST(COUNT(*) AS DOUBLE) AS `sw_0`,
  SUM(`t0`.`pre_resolution` - 0.7002873778512755) AS `m_0_0`,
  SUM(`t0`.`tenure` - 3.023405000000003) AS `m_0_1`,
  SUM(CAST(`t0`.`region` = 'apac' AS DOUBLE)) AS `m_0_2`,
  SUM(CAST(`t0`.`region` = 'emea' AS DOUBLE)) AS `m_0_3`,
  SUM(CAST(`t0`.`region` = 'apac' AS BIGINT)) AS `n_1`,
  CAST(SUM(CAST(`t0`.`region` = 'apac' AS BIGINT)) AS DOUBLE) AS `sw_1`,
  SUM(IF(`t0`.`region` = 'apac', `t0`.`pre_resolution` - 0.7002873778512755, NULL)) AS `m_1_0`,
  SUM(IF(`t0`.`region` = 'apac', `t0`.`tenure` - 3.023405000000003, NULL)) AS `m_1_1`,
  SUM(IF(`t0`.`region` = 'apac', CAST(`t0`.`region` = 'apac' AS DOUBLE), NULL)) AS `m_1_2`,
  SUM(IF(`t0`.`region` = 'apac', CAST(`t0`.`region` = 'emea' AS DOUBLE), NULL)) AS `m_1_3`
FROM `memory`.`main`.`experiment` AS `t0`;
