//! The DDL-files source: applies `CREATE`/`ALTER` statements of migration files in order.
