-- validate design
SELECT
  `t1`.`assigned`,
  `t1`.`used`,
  SUM(`t1`.`n`) AS `n`,
  SUM(IF(`t1`.`_wc_cluster` IS NULL, `t1`.`n`, 0)) AS `cluster_nulls`,
  COUNT(`t1`.`_wc_cluster`) AS `clusters`
FROM (
  SELECT
    `t0`.`assigned`,
    `t0`.`used`,
    `t0`.`team_id` AS `_wc_cluster`,
    COUNT(*) AS `n`
  FROM `memory`.`main`.`experiment` AS `t0`
  GROUP BY
    1,
    2,
    3
) AS `t1`
GROUP BY
  1,
  2
LIMIT 1001;
