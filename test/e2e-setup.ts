// e2e specs start real apps, PgBouncer and many tenant schemas; jest's 5 s default is too short.
jest.setTimeout(120_000);
