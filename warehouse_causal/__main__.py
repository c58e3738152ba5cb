"""``python -m warehouse_causal``."""

from warehouse_causal.cli import main

raise SystemExit(main())
