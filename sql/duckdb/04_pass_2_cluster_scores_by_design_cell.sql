-- pass 2: cluster scores by design cell
SELECT
  *
FROM (
  SELECT
    "t1"."key_3" AS "key_0",
    "t1"."key_0" AS "key_1",
    "t1"."key_1" AS "key_2",
    "t1"."key_2" AS "key_3",
    SUM("t1"."score_0") AS "cell_0",
    SUM("t1"."score_0" * "t1"."factor_0") AS "cell_1",
    SUM("t1"."score_0" * "t1"."factor_1") AS "cell_2",
    SUM("t1"."score_1") AS "cell_3",
    SUM("t1"."score_1" * "t1"."factor_0") AS "cell_4",
    SUM("t1"."score_1" * "t1"."factor_1") AS "cell_5",
    SUM("t1"."score_2") AS "cell_6",
    SUM("t1"."score_2" * "t1"."factor_0") AS "cell_7",
    SUM("t1"."score_2" * "t1"."factor_1") AS "cell_8",
    SUM("t1"."score_3") AS "cell_9",
    SUM("t1"."score_3" * "t1"."factor_0") AS "cell_10",
    SUM("t1"."score_3" * "t1"."factor_1") AS "cell_11",
    SUM("t1"."score_4") AS "cell_12",
    SUM("t1"."score_5") AS "cell_13",
    SUM("t1"."score_6") AS "cell_14",
    SUM("t1"."score_7") AS "cell_15"
  FROM (
    SELECT
      "t0"."used" AS "key_0",
      "t0"."assigned" AS "key_1",
      "t0"."region" AS "key_2",
      "t0"."team_id" AS "key_3",
      (
        (
          (
            (
              (
                (
                  (
                    (
                      (
                        CAST("t0"."resolved" - 1 AS DOUBLE) - -0.32097501643389564
                      ) - (
                        0.02655006207810595 * CAST("t0"."used" = 1 AS DOUBLE)
                      )
                    ) - (
                      0.26653838663938545 * (
                        "t0"."pre_resolution" - 0.698983
                      )
                    )
                  ) - (
                    -0.002977652603398807 * (
                      "t0"."tenure" - 2.99786
                    )
                  )
                ) - (
                  -0.01470217861735231 * CAST("t0"."region" = 'apac' AS DOUBLE)
                )
              ) - (
                0.01026042493037483 * CAST("t0"."region" = 'emea' AS DOUBLE)
              )
            ) - (
              -0.13446525458622083 * (
                CAST("t0"."used" = 1 AS DOUBLE) * (
                  "t0"."pre_resolution" - 0.698983
                )
              )
            )
          ) - (
            0.006290120607984507 * (
              CAST("t0"."used" = 1 AS DOUBLE) * (
                "t0"."tenure" - 2.99786
              )
            )
          )
        ) - (
          0.05736241081218694 * (
            CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
          )
        )
      ) - (
        -0.00001030354104544163 * (
          CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
        )
      ) AS "score_0",
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
                          "t0"."minutes" - 28.794213
                        ) - 0.45625708577336144
                      ) - (
                        -3.316760110284626 * CAST("t0"."used" = 1 AS DOUBLE)
                      )
                    ) - (
                      -5.066257894514078 * (
                        "t0"."pre_resolution" - 0.698983
                      )
                    )
                  ) - (
                    0.4159783485792841 * (
                      "t0"."tenure" - 2.99786
                    )
                  )
                ) - (
                  2.1168466895868576 * CAST("t0"."region" = 'apac' AS DOUBLE)
                )
              ) - (
                0.16922672772327532 * CAST("t0"."region" = 'emea' AS DOUBLE)
              )
            ) - (
              0.6288600707369 * (
                CAST("t0"."used" = 1 AS DOUBLE) * (
                  "t0"."pre_resolution" - 0.698983
                )
              )
            )
          ) - (
            -0.03858044641547608 * (
              CAST("t0"."used" = 1 AS DOUBLE) * (
                "t0"."tenure" - 2.99786
              )
            )
          )
        ) - (
          -0.34803831860473383 * (
            CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
          )
        )
      ) - (
        -0.23581935957882222 * (
          CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
        )
      ) AS "score_1",
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
                          "t0"."csat" - 4.0331804
                        ) - -0.026021904688847852
                      ) - (
                        0.027873829303840306 * CAST("t0"."used" = 1 AS DOUBLE)
                      )
                    ) - (
                      0.8540187361963005 * (
                        "t0"."pre_resolution" - 0.698983
                      )
                    )
                  ) - (
                    -0.0004412639794446934 * (
                      "t0"."tenure" - 2.99786
                    )
                  )
                ) - (
                  0.03507189633788566 * CAST("t0"."region" = 'apac' AS DOUBLE)
                )
              ) - (
                0.007703333399291428 * CAST("t0"."region" = 'emea' AS DOUBLE)
              )
            ) - (
              -0.045897093372007605 * (
                CAST("t0"."used" = 1 AS DOUBLE) * (
                  "t0"."pre_resolution" - 0.698983
                )
              )
            )
          ) - (
            -0.012482040241731855 * (
              CAST("t0"."used" = 1 AS DOUBLE) * (
                "t0"."tenure" - 2.99786
              )
            )
          )
        ) - (
          0.025534860492129892 * (
            CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
          )
        )
      ) - (
        0.025820744282742072 * (
          CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
        )
      ) AS "score_2",
      (
        (
          (
            (
              (
                (
                  (
                    (
                      (
                        CAST("t0"."used" = 1 AS DOUBLE) - 0.07692214646559498
                      ) - (
                        0.3985562324450201 * CAST("t0"."assigned" = 1 AS DOUBLE)
                      )
                    ) - (
                      0.14600449081042907 * (
                        "t0"."pre_resolution" - 0.698983
                      )
                    )
                  ) - (
                    0.0008533999302504059 * (
                      "t0"."tenure" - 2.99786
                    )
                  )
                ) - (
                  0.008823609520215681 * CAST("t0"."region" = 'apac' AS DOUBLE)
                )
              ) - (
                -0.005184331322399231 * CAST("t0"."region" = 'emea' AS DOUBLE)
              )
            ) - (
              -0.020590216526046812 * (
                CAST("t0"."assigned" = 1 AS DOUBLE) * (
                  "t0"."pre_resolution" - 0.698983
                )
              )
            )
          ) - (
            -0.0008027100008122175 * (
              CAST("t0"."assigned" = 1 AS DOUBLE) * (
                "t0"."tenure" - 2.99786
              )
            )
          )
        ) - (
          0.012149896865143216 * (
            CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
          )
        )
      ) - (
        0.0218221028056749 * (
          CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
        )
      ) AS "score_3",
      (
        (
          "t0"."pre_resolution" - 0.698983
        ) - 0.001465157844077155
      ) - (
        -0.0003217530374139688 * CAST("t0"."assigned" = 1 AS DOUBLE)
      ) AS "score_4",
      (
        (
          "t0"."tenure" - 2.99786
        ) - 0.013583134119528075
      ) - (
        0.023938094617714012 * CAST("t0"."assigned" = 1 AS DOUBLE)
      ) AS "score_5",
      (
        CAST("t0"."region" = 'apac' AS DOUBLE) - 0.19658205076953827
      ) - (
        0.001736940625298645 * CAST("t0"."assigned" = 1 AS DOUBLE)
      ) AS "score_6",
      (
        CAST("t0"."region" = 'emea' AS DOUBLE) - 0.3526883869678194
      ) - (
        0.002424680872884988 * CAST("t0"."assigned" = 1 AS DOUBLE)
      ) AS "score_7",
      "t0"."pre_resolution" - 0.698983 AS "factor_0",
      "t0"."tenure" - 2.99786 AS "factor_1"
    FROM "memory"."main"."experiment" AS "t0"
  ) AS "t1"
  GROUP BY
    1,
    2,
    3,
    4
) AS "t2"
ORDER BY
  "t2"."key_0" ASC,
  "t2"."key_1" ASC,
  "t2"."key_2" ASC,
  "t2"."key_3" ASC;
