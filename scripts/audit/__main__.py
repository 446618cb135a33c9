from scripts.audit.cli import main

raise SystemExit(main())
