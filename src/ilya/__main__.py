from ilya.cli import main

raise SystemExit(main())
