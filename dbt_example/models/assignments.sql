-- One row per user: team-randomized arm, exposure date, tenure. Deterministic and offline.
select
    i as user_id,
    i % 200 as team_id,
    cast(hash(i % 200, 'arm') % 2 as integer) as arm,
    date '2026-01-01' + cast(i % 10 as integer) as exposed_at,
    cast(hash(i, 'tenure') % 100 as double) / 10.0 as tenure
from range(20000) as r(i)
