-- pass 1: cross products
SELECT
  CAST(COUNT(*) AS DOUBLE) AS "m_0_0",
  SUM(CAST("t0"."used" = 1 AS DOUBLE)) AS "m_0_1",
  SUM("t0"."pre_resolution" - 0.7002873778512755) AS "m_0_2",
  SUM("t0"."tenure" - 3.023405000000003) AS "m_0_3",
  SUM(CAST("t0"."region" = 'apac' AS DOUBLE)) AS "m_0_4",
  SUM(CAST("t0"."region" = 'emea' AS DOUBLE)) AS "m_0_5",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    )
  ) AS "m_0_6",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * (
    "t0"."tenure" - 3.023405000000003
  )) AS "m_0_7",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)) AS "m_0_8",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)) AS "m_0_9",
  SUM(CAST("t0"."assigned" = 1 AS DOUBLE)) AS "m_0_10",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    )
  ) AS "m_0_11",
  SUM(CAST("t0"."assigned" = 1 AS DOUBLE) * (
    "t0"."tenure" - 3.023405000000003
  )) AS "m_0_12",
  SUM(CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)) AS "m_0_13",
  SUM(CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)) AS "m_0_14",
  SUM(CAST("t0"."resolved" AS DOUBLE) - 0.6906) AS "m_0_15",
  SUM("t0"."minutes" - 28.75665766590268) AS "m_0_16",
  SUM("t0"."csat" - 4.029568756367252) AS "m_0_17",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."used" = 1 AS DOUBLE)) AS "m_1_1",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    )
  ) AS "m_1_2",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * (
    "t0"."tenure" - 3.023405000000003
  )) AS "m_1_3",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)) AS "m_1_4",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)) AS "m_1_5",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_1_6",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_1_7",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_1_8",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_1_9",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."assigned" = 1 AS DOUBLE)) AS "m_1_10",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_1_11",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_1_12",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_1_13",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_1_14",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * (
    CAST("t0"."resolved" AS DOUBLE) - 0.6906
  )) AS "m_1_15",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * (
    "t0"."minutes" - 28.75665766590268
  )) AS "m_1_16",
  SUM(CAST("t0"."used" = 1 AS DOUBLE) * (
    "t0"."csat" - 4.029568756367252
  )) AS "m_1_17",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."pre_resolution" - 0.7002873778512755
    )
  ) AS "m_2_2",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."tenure" - 3.023405000000003
    )
  ) AS "m_2_3",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * CAST("t0"."region" = 'apac' AS DOUBLE)
  ) AS "m_2_4",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * CAST("t0"."region" = 'emea' AS DOUBLE)
  ) AS "m_2_5",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_2_6",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_2_7",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_2_8",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_2_9",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * CAST("t0"."assigned" = 1 AS DOUBLE)
  ) AS "m_2_10",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_2_11",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_2_12",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_2_13",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_2_14",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_2_15",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_2_16",
  SUM(
    (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_2_17",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      "t0"."tenure" - 3.023405000000003
    )
  ) AS "m_3_3",
  SUM((
    "t0"."tenure" - 3.023405000000003
  ) * CAST("t0"."region" = 'apac' AS DOUBLE)) AS "m_3_4",
  SUM((
    "t0"."tenure" - 3.023405000000003
  ) * CAST("t0"."region" = 'emea' AS DOUBLE)) AS "m_3_5",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_3_6",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_3_7",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_3_8",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_3_9",
  SUM((
    "t0"."tenure" - 3.023405000000003
  ) * CAST("t0"."assigned" = 1 AS DOUBLE)) AS "m_3_10",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_3_11",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_3_12",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_3_13",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_3_14",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_3_15",
  SUM(
    (
      "t0"."tenure" - 3.023405000000003
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_3_16",
  SUM((
    "t0"."tenure" - 3.023405000000003
  ) * (
    "t0"."csat" - 4.029568756367252
  )) AS "m_3_17",
  SUM(CAST("t0"."region" = 'apac' AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)) AS "m_4_4",
  SUM(CAST("t0"."region" = 'apac' AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)) AS "m_4_5",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_4_6",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_4_7",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_4_8",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_4_9",
  SUM(CAST("t0"."region" = 'apac' AS DOUBLE) * CAST("t0"."assigned" = 1 AS DOUBLE)) AS "m_4_10",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_4_11",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_4_12",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_4_13",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_4_14",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_4_15",
  SUM(
    CAST("t0"."region" = 'apac' AS DOUBLE) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_4_16",
  SUM(CAST("t0"."region" = 'apac' AS DOUBLE) * (
    "t0"."csat" - 4.029568756367252
  )) AS "m_4_17",
  SUM(CAST("t0"."region" = 'emea' AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)) AS "m_5_5",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_5_6",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_5_7",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_5_8",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_5_9",
  SUM(CAST("t0"."region" = 'emea' AS DOUBLE) * CAST("t0"."assigned" = 1 AS DOUBLE)) AS "m_5_10",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_5_11",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_5_12",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_5_13",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_5_14",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_5_15",
  SUM(
    CAST("t0"."region" = 'emea' AS DOUBLE) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_5_16",
  SUM(CAST("t0"."region" = 'emea' AS DOUBLE) * (
    "t0"."csat" - 4.029568756367252
  )) AS "m_5_17",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_6_6",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_6_7",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_6_8",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_6_9",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * CAST("t0"."assigned" = 1 AS DOUBLE)
  ) AS "m_6_10",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_6_11",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_6_12",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_6_13",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_6_14",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_6_15",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_6_16",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_6_17",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_7_7",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_7_8",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_7_9",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * CAST("t0"."assigned" = 1 AS DOUBLE)
  ) AS "m_7_10",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_7_11",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_7_12",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_7_13",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_7_14",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_7_15",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_7_16",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_7_17",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_8_8",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_8_9",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * CAST("t0"."assigned" = 1 AS DOUBLE)
  ) AS "m_8_10",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_8_11",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_8_12",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_8_13",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_8_14",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_8_15",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_8_16",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_8_17",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_9_9",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * CAST("t0"."assigned" = 1 AS DOUBLE)
  ) AS "m_9_10",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_9_11",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_9_12",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_9_13",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_9_14",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_9_15",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_9_16",
  SUM(
    CAST("t0"."used" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_9_17",
  SUM(CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."assigned" = 1 AS DOUBLE)) AS "m_10_10",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_10_11",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_10_12",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_10_13",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_10_14",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_10_15",
  SUM(CAST("t0"."assigned" = 1 AS DOUBLE) * (
    "t0"."minutes" - 28.75665766590268
  )) AS "m_10_16",
  SUM(CAST("t0"."assigned" = 1 AS DOUBLE) * (
    "t0"."csat" - 4.029568756367252
  )) AS "m_10_17",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."pre_resolution" - 0.7002873778512755
      )
    )
  ) AS "m_11_11",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_11_12",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_11_13",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_11_14",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_11_15",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_11_16",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."pre_resolution" - 0.7002873778512755
    ) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_11_17",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * (
        "t0"."tenure" - 3.023405000000003
      )
    )
  ) AS "m_12_12",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_12_13",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_12_14",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_12_15",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_12_16",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * (
      "t0"."tenure" - 3.023405000000003
    ) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_12_17",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE)
    )
  ) AS "m_13_13",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_13_14",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_13_15",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_13_16",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'apac' AS DOUBLE) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_13_17",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE)
    )
  ) AS "m_14_14",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_14_15",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_14_16",
  SUM(
    CAST("t0"."assigned" = 1 AS DOUBLE) * CAST("t0"."region" = 'emea' AS DOUBLE) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_14_17",
  SUM(
    (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    ) * (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    )
  ) AS "m_15_15",
  SUM(
    (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_15_16",
  SUM(
    (
      CAST("t0"."resolved" AS DOUBLE) - 0.6906
    ) * (
      "t0"."csat" - 4.029568756367252
    )
  ) AS "m_15_17",
  SUM(
    (
      "t0"."minutes" - 28.75665766590268
    ) * (
      "t0"."minutes" - 28.75665766590268
    )
  ) AS "m_16_16",
  SUM((
    "t0"."minutes" - 28.75665766590268
  ) * (
    "t0"."csat" - 4.029568756367252
  )) AS "m_16_17",
  SUM((
    "t0"."csat" - 4.029568756367252
  ) * (
    "t0"."csat" - 4.029568756367252
  )) AS "m_17_17",
  COUNT(*) AS "n",
  CAST(COUNT(*) AS DOUBLE) AS "sum_w",
  CAST(COUNT(*) AS DOUBLE) AS "sum_w2"
FROM "memory"."main"."experiment" AS "t0";
