-- validate design
SELECT
  `t1`.`key_0`,
  `t1`.`key_1`,
  SUM(`t1`.`rows`) AS `rows`,
  SUM(IF(`t1`.`key_2` IS NULL, `t1`.`rows`, 0)) AS `clusternulls`,
  COUNT(`t1`.`key_2`) AS `clusters`
FROM (
  SELECT
    `t0`.`assigned` AS `key_0`,
    `t0`.`used` AS `key_1`,
    `t0`.`team_id` AS `key_2`,
    COUNT(*) AS `rows`
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
