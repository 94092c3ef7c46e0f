//! The `directory` scenario (issue #14): the operator imports a generated national directory
//! (111,339 units by default) in one call, an agency syncs a verified copy (a full snapshot),
//! looks units up one at a time, and after a second import syncs only the changes.

use std::time::Instant;

use anyhow::{Context, Result};
use axis_client::{Client, ClientConfig};
use axis_pki::AgencyId;
use axis_testkit::directory::{generate, renamed, unit_list};

use crate::load::quantile;
use crate::{Bench, load_average, ms};

impl Bench {
    pub(crate) async fn directory(&mut self) -> Result<()> {
        let n = self.args.units;
        let t = Instant::now();
        let raw = generate(n);
        let v1 = unit_list(&raw);
        // Every 100th unit renamed: about 1% of the directory changes.
        let v2 = unit_list(&renamed(&raw, 100, "(đổi tên)"));
        println!(
            "generated and checked {} units in {:.1} s",
            v1.len(),
            t.elapsed().as_secs_f64()
        );
        let lookups = self.args.lookups;
        for rep in 0..self.args.reps {
            let s = self.server().await?;
            let endpoint = format!("https://{}", s.addr);
            let op = Client::connect(ClientConfig::new(
                endpoint.clone(),
                "localhost",
                self.pki.pki.root.clone(),
                axis_tests::sdk_credential(&self.pki.operator, &self.pki),
            ))
            .await
            .context("operator client")?;
            let agency = Client::connect(axis_tests::sdk_config(
                &self.pki,
                &self.pki.agencies[0],
                &[endpoint],
            ))
            .await
            .context("agency client")?;

            let t = Instant::now();
            let first = op.import_units(None, &v1).await?;
            let import = t.elapsed();

            let t = Instant::now();
            let full = agency.sync_directory(None).await?;
            let full_sync = t.elapsed();
            let copy = full.directory.context("no directory after the import")?;

            // Lookups of ids spread over the whole directory, one at a time.
            let step = (raw.len() / lookups.max(1)).max(1);
            let mut lat = Vec::with_capacity(lookups);
            for i in 0..lookups {
                let id = AgencyId::parse(&raw[(i * step + rep) % raw.len()].id)?;
                let t = Instant::now();
                agency.lookup_unit(&id).await?;
                lat.push(t.elapsed());
            }
            lat.sort();

            let t = Instant::now();
            let second = op.import_units(Some(&first.directory), &v2).await?;
            let reimport = t.elapsed();

            let t = Instant::now();
            let inc = agency.sync_directory(Some(&copy)).await?;
            let inc_sync = t.elapsed();
            anyhow::ensure!(
                !inc.snapshot && inc.changed == second.changes,
                "the incremental sync took a snapshot or missed changes"
            );

            let r = &mut self.report;
            r.add(
                &format!("directory: import {n} units"),
                "",
                "s",
                import.as_secs_f64(),
            );
            r.add(
                "directory: full sync (snapshot, verified)",
                "< 10 s",
                "s",
                full_sync.as_secs_f64(),
            );
            r.add("directory: lookup p50", "", "ms", ms(quantile(&lat, 0.5)));
            r.add(
                "directory: lookup p99",
                "< 1 ms",
                "ms",
                ms(quantile(&lat, 0.99)),
            );
            r.add(
                &format!("directory: re-import, {} changes", second.changes),
                "",
                "s",
                reimport.as_secs_f64(),
            );
            r.add(
                &format!("directory: incremental sync, {} changes", inc.changed),
                "",
                "ms",
                ms(inc_sync),
            );
            r.note(format!(
                "directory rep {rep}: import {:.2} s, full sync {:.2} s, lookup p99 {:.3} ms over {lookups}, \
                 re-import {:.2} s, incremental sync {:.1} ms; load {}",
                import.as_secs_f64(),
                full_sync.as_secs_f64(),
                ms(quantile(&lat, 0.99)),
                reimport.as_secs_f64(),
                ms(inc_sync),
                load_average()
            ));
            drop((op, agency));
            self.stop(s, "directory", rep).await?;
        }
        Ok(())
    }
}
