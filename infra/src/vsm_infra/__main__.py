from vsm_infra.cli import main

raise SystemExit(main())
