-- pass 2: cluster scores by design cell
SELECT
  "t1"."cluster",
  "t1"."k_0",
  "t1"."k_1",
  "t1"."k_2",
  SUM("t1"."we_0") AS "u_0_0",
  SUM("t1"."we_0" * "t1"."g_1") AS "u_0_1",
  SUM("t1"."we_0" * "t1"."g_2") AS "u_0_2",
  SUM("t1"."we_1") AS "u_1_0",
  SUM("t1"."we_1" * "t1"."g_1") AS "u_1_1",
  SUM("t1"."we_1" * "t1"."g_2") AS "u_1_2",
  SUM("t1"."we_2") AS "u_2_0",
  SUM("t1"."we_2" * "t1"."g_1") AS "u_2_1",
  SUM("t1"."we_2" * "t1"."g_2") AS "u_2_2"
FROM (
  SELECT
    "t0"."team_id" AS "cluster",
    "t0"."used" AS "k_0",
    "t0"."assigned" AS "k_1",
    "t0"."region" AS "k_2",
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
                        CAST("t0"."resolved" AS DOUBLE) - 0.696
                      ) - -0.016975016433894017
                    ) - (
                      0.026550062078103544 * CAST("t0"."used" = 1 AS DOUBLE)
                    )
                  ) - (
                    0.2665383866393864 * (
                      "t0"."pre_resolution" - 0.698983
                    )
                  )
                ) - (
                  -0.0029776526033988156 * (
                    "t0"."tenure" - 2.99786
                  )
                )
              ) - (
                -0.014702178617353212 * CAST("t0"."region" = 'apac' AS DOUBLE)
              )
            ) - (
              0.01026042493037339 * CAST("t0"."region" = 'emea' AS DOUBLE)
            )
          ) - (
            -0.13446525458622252 * (
              CAST("t0"."used" = 1 AS DOUBLE) * (
                "t0"."pre_resolution" - 0.698983
              )
            )
          )
        ) - (
          0.006290120607984475 * (
            CAST("t0"."used" = 1 AS DOUBLE) * (
              "t0"."tenure" - 2.99786
            )
          )
        )
      ) - (
        0.05736241081218686 * (
          CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
        )
      )
    ) - (
      -0.000010303541044004149 * (
        CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
      )
    ) AS "we_0",
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
                        "t0"."minutes" - 28.7942
                      ) - 0.45627008577336453
                    ) - (
                      -3.3167601102846316 * CAST("t0"."used" = 1 AS DOUBLE)
                    )
                  ) - (
                    -5.066257894514068 * (
                      "t0"."pre_resolution" - 0.698983
                    )
                  )
                ) - (
                  0.4159783485792844 * (
                    "t0"."tenure" - 2.99786
                  )
                )
              ) - (
                2.116846689586855 * CAST("t0"."region" = 'apac' AS DOUBLE)
              )
            ) - (
              0.16922672772327363 * CAST("t0"."region" = 'emea' AS DOUBLE)
            )
          ) - (
            0.6288600707368854 * (
              CAST("t0"."used" = 1 AS DOUBLE) * (
                "t0"."pre_resolution" - 0.698983
              )
            )
          )
        ) - (
          -0.03858044641547594 * (
            CAST("t0"."used" = 1 AS DOUBLE) * (
              "t0"."tenure" - 2.99786
            )
          )
        )
      ) - (
        -0.34803831860473483 * (
          CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
        )
      )
    ) - (
      -0.2358193595788192 * (
        CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
      )
    ) AS "we_1",
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
                        "t0"."csat" - 4.03318
                      ) - -0.026021504688847674
                    ) - (
                      0.027873829303840553 * CAST("t0"."used" = 1 AS DOUBLE)
                    )
                  ) - (
                    0.8540187361962992 * (
                      "t0"."pre_resolution" - 0.698983
                    )
                  )
                ) - (
                  -0.000441263979444697 * (
                    "t0"."tenure" - 2.99786
                  )
                )
              ) - (
                0.03507189633788575 * CAST("t0"."region" = 'apac' AS DOUBLE)
              )
            ) - (
              0.007703333399291452 * CAST("t0"."region" = 'emea' AS DOUBLE)
            )
          ) - (
            -0.04589709337200681 * (
              CAST("t0"."used" = 1 AS DOUBLE) * (
                "t0"."pre_resolution" - 0.698983
              )
            )
          )
        ) - (
          -0.01248204024173183 * (
            CAST("t0"."used" = 1 AS DOUBLE) * (
              "t0"."tenure" - 2.99786
            )
          )
        )
      ) - (
        0.025534860492129587 * (
          CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
        )
      )
    ) - (
      0.025820744282741673 * (
        CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
      )
    ) AS "we_2",
    "t0"."pre_resolution" - 0.698983 AS "g_1",
    "t0"."tenure" - 2.99786 AS "g_2"
  FROM "memory"."main"."experiment" AS "t0"
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;
