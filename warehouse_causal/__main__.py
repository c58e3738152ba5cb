"""``python -m warehouse_causal``."""

from warehouse_causal.surfaces.cli import main

raise SystemExit(main())
