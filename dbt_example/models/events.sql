-- Purchases from 30 days before to 30 days after exposure; treated users spend 20% more afterwards.
with raw as (
    select
        j as event_id,
        cast(hash(j, 'user') % 20000 as bigint) as user_id,
        cast(hash(j, 'day') % 60 as integer) - 30 as day_offset,
        cast(hash(j, 'amount') % 10000 as double) / 100.0 as base_amount
    from range(150000) as r(j)
)
select
    raw.event_id,
    raw.user_id,
    a.exposed_at + raw.day_offset as event_at,
    raw.base_amount * (case when a.arm = 1 and raw.day_offset >= 0 then 1.2 else 1.0 end) as amount
from raw
join {{ ref('assignments') }} as a using (user_id)
