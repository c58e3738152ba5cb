-- After launch: one row per user and fortnight for 8 fortnights. Teams with team_id % 10 = 0 are the
-- long-term holdout (kept on control); everyone else has the treatment, +20% spend. Revenue per
-- fortnight matches the experiment's 14-day metric (1.75 purchases of 49.995 on average), and
-- pre_revenue is the same 28-day pre-exposure spend the experiment adjusted for.
with pre as (
    select
        a.user_id,
        coalesce(sum(e.amount) filter (where e.event_at >= a.exposed_at - 28 and e.event_at < a.exposed_at), 0)
            as pre_revenue
    from {{ ref('assignments') }} as a
    left join {{ ref('events') }} as e using (user_id)
    group by a.user_id
)
select
    a.user_id,
    a.team_id,
    f.fortnight,
    a.tenure,
    pre.pre_revenue,
    case when a.team_id % 10 = 0 then 1 else 0 end as in_holdout,
    cast(hash(a.user_id, f.fortnight, 'spend') % 10000 as double) / 100.0 * 1.75
        * (case when a.team_id % 10 = 0 then 1.0 else 1.2 end) as revenue
from {{ ref('assignments') }} as a
cross join range(8) as f(fortnight)
join pre using (user_id)
