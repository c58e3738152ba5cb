-- pass 2: cluster scores by design cell
SELECT
  *
FROM (
  SELECT
    `t1`.`cluster`,
    `t1`.`k_0`,
    `t1`.`k_1`,
    `t1`.`k_2`,
    SUM(`t1`.`we_0`) AS `u_0_0`,
    SUM(`t1`.`we_0` * `t1`.`g_1`) AS `u_0_1`,
    SUM(`t1`.`we_0` * `t1`.`g_2`) AS `u_0_2`,
    SUM(`t1`.`we_1`) AS `u_1_0`,
    SUM(`t1`.`we_1` * `t1`.`g_1`) AS `u_1_1`,
    SUM(`t1`.`we_1` * `t1`.`g_2`) AS `u_1_2`,
    SUM(`t1`.`we_2`) AS `u_2_0`,
    SUM(`t1`.`we_2` * `t1`.`g_1`) AS `u_2_1`,
    SUM(`t1`.`we_2` * `t1`.`g_2`) AS `u_2_2`,
    SUM(`t1`.`we_3`) AS `u_3_0`,
    SUM(`t1`.`we_3` * `t1`.`g_1`) AS `u_3_1`,
    SUM(`t1`.`we_3` * `t1`.`g_2`) AS `u_3_2`,
    SUM(`t1`.`we_4`) AS `u_4_0`,
    SUM(`t1`.`we_5`) AS `u_5_0`,
    SUM(`t1`.`we_6`) AS `u_6_0`,
    SUM(`t1`.`we_7`) AS `u_7_0`
  FROM (
    SELECT
      `t0`.`team_id` AS `cluster`,
      `t0`.`used` AS `k_0`,
      `t0`.`assigned` AS `k_1`,
      `t0`.`region` AS `k_2`,
      (
        (
          (
            (
              (
                (
                  (
                    (
                      (
                        CAST(`t0`.`resolved` - 1 AS FLOAT64) - -0.32097501643389564
                      ) - (
                        0.02655006207810595 * CAST(`t0`.`used` = 1 AS FLOAT64)
                      )
                    ) - (
                      0.26653838663938545 * (
                        `t0`.`pre_resolution` - 0.698983
                      )
                    )
                  ) - (
                    -0.002977652603398807 * (
                      `t0`.`tenure` - 2.99786
                    )
                  )
                ) - (
                  -0.01470217861735231 * CAST(`t0`.`region` = 'apac' AS FLOAT64)
                )
              ) - (
                0.01026042493037483 * CAST(`t0`.`region` = 'emea' AS FLOAT64)
              )
            ) - (
              -0.13446525458622083 * (
                CAST(`t0`.`used` = 1 AS FLOAT64) * (
                  `t0`.`pre_resolution` - 0.698983
                )
              )
            )
          ) - (
            0.006290120607984507 * (
              CAST(`t0`.`used` = 1 AS FLOAT64) * (
                `t0`.`tenure` - 2.99786
              )
            )
          )
        ) - (
          0.05736241081218694 * (
            CAST(`t0`.`used` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'apac' AS FLOAT64)
          )
        )
      ) - (
        -0.00001030354104544163 * (
          CAST(`t0`.`used` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'emea' AS FLOAT64)
        )
      ) AS `we_0`,
      (
        (
          (
            (
              (
                (
                  (
                    (
                      (
                        (
                          `t0`.`minutes` - 28.794213
                        ) - 0.45625708577336144
                      ) - (
                        -3.316760110284626 * CAST(`t0`.`used` = 1 AS FLOAT64)
                      )
                    ) - (
                      -5.066257894514078 * (
                        `t0`.`pre_resolution` - 0.698983
                      )
                    )
                  ) - (
                    0.4159783485792841 * (
                      `t0`.`tenure` - 2.99786
                    )
                  )
                ) - (
                  2.1168466895868576 * CAST(`t0`.`region` = 'apac' AS FLOAT64)
                )
              ) - (
                0.16922672772327532 * CAST(`t0`.`region` = 'emea' AS FLOAT64)
              )
            ) - (
              0.6288600707369 * (
                CAST(`t0`.`used` = 1 AS FLOAT64) * (
                  `t0`.`pre_resolution` - 0.698983
                )
              )
            )
          ) - (
            -0.03858044641547608 * (
              CAST(`t0`.`used` = 1 AS FLOAT64) * (
                `t0`.`tenure` - 2.99786
              )
            )
          )
        ) - (
          -0.34803831860473383 * (
            CAST(`t0`.`used` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'apac' AS FLOAT64)
          )
        )
      ) - (
        -0.23581935957882222 * (
          CAST(`t0`.`used` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'emea' AS FLOAT64)
        )
      ) AS `we_1`,
      (
        (
          (
            (
              (
                (
                  (
                    (
                      (
                        (
                          `t0`.`csat` - 4.0331804
                        ) - -0.026021904688847852
                      ) - (
                        0.027873829303840306 * CAST(`t0`.`used` = 1 AS FLOAT64)
                      )
                    ) - (
                      0.8540187361963005 * (
                        `t0`.`pre_resolution` - 0.698983
                      )
                    )
                  ) - (
                    -0.0004412639794446934 * (
                      `t0`.`tenure` - 2.99786
                    )
                  )
                ) - (
                  0.03507189633788566 * CAST(`t0`.`region` = 'apac' AS FLOAT64)
                )
              ) - (
                0.007703333399291428 * CAST(`t0`.`region` = 'emea' AS FLOAT64)
              )
            ) - (
              -0.045897093372007605 * (
                CAST(`t0`.`used` = 1 AS FLOAT64) * (
                  `t0`.`pre_resolution` - 0.698983
                )
              )
            )
          ) - (
            -0.012482040241731855 * (
              CAST(`t0`.`used` = 1 AS FLOAT64) * (
                `t0`.`tenure` - 2.99786
              )
            )
          )
        ) - (
          0.025534860492129892 * (
            CAST(`t0`.`used` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'apac' AS FLOAT64)
          )
        )
      ) - (
        0.025820744282742072 * (
          CAST(`t0`.`used` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'emea' AS FLOAT64)
        )
      ) AS `we_2`,
      (
        (
          (
            (
              (
                (
                  (
                    (
                      (
                        CAST(`t0`.`used` = 1 AS FLOAT64) - 0.07692214646559498
                      ) - (
                        0.3985562324450201 * CAST(`t0`.`assigned` = 1 AS FLOAT64)
                      )
                    ) - (
                      0.14600449081042907 * (
                        `t0`.`pre_resolution` - 0.698983
                      )
                    )
                  ) - (
                    0.0008533999302504059 * (
                      `t0`.`tenure` - 2.99786
                    )
                  )
                ) - (
                  0.008823609520215681 * CAST(`t0`.`region` = 'apac' AS FLOAT64)
                )
              ) - (
                -0.005184331322399231 * CAST(`t0`.`region` = 'emea' AS FLOAT64)
              )
            ) - (
              -0.020590216526046812 * (
                CAST(`t0`.`assigned` = 1 AS FLOAT64) * (
                  `t0`.`pre_resolution` - 0.698983
                )
              )
            )
          ) - (
            -0.0008027100008122175 * (
              CAST(`t0`.`assigned` = 1 AS FLOAT64) * (
                `t0`.`tenure` - 2.99786
              )
            )
          )
        ) - (
          0.012149896865143216 * (
            CAST(`t0`.`assigned` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'apac' AS FLOAT64)
          )
        )
      ) - (
        0.0218221028056749 * (
          CAST(`t0`.`assigned` = 1 AS FLOAT64) * CAST(`t0`.`region` = 'emea' AS FLOAT64)
        )
      ) AS `we_3`,
      (
        (
          `t0`.`pre_resolution` - 0.698983
        ) - 0.001465157844077155
      ) - (
        -0.0003217530374139688 * CAST(`t0`.`assigned` = 1 AS FLOAT64)
      ) AS `we_4`,
      (
        (
          `t0`.`tenure` - 2.99786
        ) - 0.013583134119528075
      ) - (
        0.023938094617714012 * CAST(`t0`.`assigned` = 1 AS FLOAT64)
      ) AS `we_5`,
      (
        CAST(`t0`.`region` = 'apac' AS FLOAT64) - 0.19658205076953827
      ) - (
        0.001736940625298645 * CAST(`t0`.`assigned` = 1 AS FLOAT64)
      ) AS `we_6`,
      (
        CAST(`t0`.`region` = 'emea' AS FLOAT64) - 0.3526883869678194
      ) - (
        0.002424680872884988 * CAST(`t0`.`assigned` = 1 AS FLOAT64)
      ) AS `we_7`,
      `t0`.`pre_resolution` - 0.698983 AS `g_1`,
      `t0`.`tenure` - 2.99786 AS `g_2`
    FROM `memory`.`main`.`experiment` AS `t0`
  ) AS `t1`
  GROUP BY
    1,
    2,
    3,
    4
) AS `t2`
ORDER BY
  `t2`.`cluster` ASC NULLS LAST,
  `t2`.`k_0` ASC NULLS LAST,
  `t2`.`k_1` ASC NULLS LAST,
  `t2`.`k_2` ASC NULLS LAST;
