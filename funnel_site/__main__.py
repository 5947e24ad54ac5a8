from funnel_site.cli import main

raise SystemExit(main())
