/**
 * `hotline export` and `hotline verify`: a node's ledger written as a bundle, and a bundle (or
 * both parties' bundles) checked offline, with no store (docs/ledger.md § Audit).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError, callNode } from './client.ts';
import { redOptionsAlone, typedTime } from './inputs.ts';

export function registerAudit(program: Command): void {
  program
    .command('export')
    .description(
      'write this node’s ledger, cards, bodies, checkpoints and co-signatures as a bundle',
    )
    .addOption(new Option('--data <dir>', 'the node data folder').makeOptionMandatory())
    .requiredOption('--out <file>', 'the bundle file to write (JSON Lines; never overwritten)')
    .option('--force', 'replace the --out file if it exists (otherwise refused)')
    .addOption(
      new Option('--no-bodies', 'leave out the plain bodies (every proof still holds)').conflicts(
        'includeRed',
      ),
    )
    .option(
      '--include-red',
      'include TLP:RED bodies (withheld by default); recorded in the ledger, needs --reason',
    )
    .option('--reason <text>', 'why TLP:RED content is included')
    .option('--desk <desk>', 'the desk forcing TLP:RED content out (default: your first)')
    .action(async (o) => {
      redOptionsAlone(o);
      let includeRed: { auditLeaf: number } | undefined;
      if (o.includeRed) {
        if (!o.reason)
          throw new CliError('--include-red needs --reason: forcing TLP:RED out is recorded');
        // The running node records it in its ledger first; the export then includes that leaf.
        const { leaf } = (await callNode(o.data, 'POST', '/api/v1/exports/red', {
          ...(o.desk ? { desk: o.desk } : {}),
          reason: o.reason,
        })) as { leaf: number };
        includeRed = { auditLeaf: leaf };
      }
      const [{ exportLedgerToFile }, { recordExport }] = await Promise.all([
        import('../node/record/export.ts'),
        import('./bundle-files.ts'),
      ]);
      const s = await exportLedgerToFile(o.data, o.out, {
        bodies: o.bodies,
        replace: o.force === true,
        ...(includeRed ? { includeRed } : {}),
      });
      await recordExport(o.data, {
        file: o.out,
        leaves: s.leaves,
        bodies: s.bodies,
        ...(includeRed ? { includeRed: true } : {}),
      });
      console.log(
        `Exported the ledger of "${s.party}" to ${o.out}: ${s.leaves} leaves, ${s.bodies} bodies, ` +
          `${s.checkpoints} checkpoints${s.signedCheckpoint ? ' (the last signed now, over every leaf)' : ''}, ` +
          `${s.cosignatures} co-signatures, ${s.cards} cards` +
          (s.redWithheld
            ? `; ${s.redWithheld} TLP:RED bodies withheld (--include-red to force, recorded)`
            : ''),
      );
    });

  program
    .command('export-sealed')
    .description(
      'write the sealed parts of the ledger’s messages, for a third party holding a sealing key',
    )
    .addOption(new Option('--data <dir>', 'the node data folder').makeOptionMandatory())
    .requiredOption('--out <file>', 'the file to write (JSON Lines; never overwritten)')
    .option('--force', 'replace the --out file if it exists (otherwise refused)')
    .action(async (o) => {
      const [{ exportSealedToFile }, { recordExport }] = await Promise.all([
        import('../node/record/export-sealed.ts'),
        import('./bundle-files.ts'),
      ]);
      const s = await exportSealedToFile(o.data, o.out, { replace: o.force === true });
      await recordExport(o.data, { file: o.out, sealed: s.sealed });
      console.log(
        `Exported ${s.sealed} sealed parts to ${o.out}` +
          (s.redWithheld ? `; ${s.redWithheld} TLP:RED messages withheld` : ''),
      );
    });

  program
    .command('verify <file>')
    .description('check an exported bundle offline; with --peer-export, that both sides agree')
    .option('--peer-export <file>', 'the other party’s bundle, to compare both views')
    .option('--json', 'print the report as JSON')
    .option(
      '--regimes <file>',
      'the notification regimes to count compliance by (default: shipped)',
    )
    .option(
      '--at <time>',
      'count compliance as at this time, with its zone (e.g. 2027-02-01T00:00Z; default: the first bundle’s export time)',
      (v) => typedTime(v, '--at'),
    )
    .option(
      '--threads <n>',
      'threads examining the leaves beside the reader (0: none; default: one per core)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 256)
          throw new InvalidArgumentError('a whole number from 0 to 256');
        return n;
      },
    )
    .action(async (file: string, o) => {
      const files: string[] = [file, ...(o.peerExport ? [o.peerExport as string] : [])];
      const [{ compareViews }, { formatReport, verifyBundleFile }, regimesModule, report] =
        await Promise.all([
          import('../ledger/verify.ts'),
          import('./bundle-files.ts'),
          import('../protocol/regimes.ts'),
          import('./compliance-report.ts'),
        ]);
      const regimes = regimesModule.loadRegimes(o.regimes);
      const results = [];
      for (const f of files)
        results.push(
          await verifyBundleFile(f, o.threads === undefined ? {} : { threads: o.threads }),
        );
      const [first, second] = results;
      const cross = first?.view && second?.view ? compareViews(first.view, second.view) : undefined;
      const at = new Date(o.at ?? first?.report.exportedAt ?? Date.now());
      const compliance = results.flatMap((r) =>
        r.view ? [report.complianceOf(regimes, r.view, at)] : [],
      );
      const [ca, cb] = compliance;
      const complianceCross =
        ca && cb && cross
          ? report.compareComplianceReports(ca, cb, cross.notYetReceived)
          : undefined;
      const ok =
        results.every((r) => r.report.ok) &&
        (files.length === 1 || cross?.ok === true) &&
        !complianceCross?.differ.length;
      if (o.json)
        console.log(
          JSON.stringify(
            {
              ok,
              bundles: results.map((r, i) => ({ file: files[i], ...r.report })),
              ...(cross ? { views: cross } : {}),
              compliance: {
                reports: compliance,
                ...(complianceCross ? { cross: complianceCross } : {}),
              },
            },
            null,
            2,
          ),
        );
      else
        console.log(
          [
            complianceCross?.differ.length && results.every((r) => r.report.ok) && cross?.ok
              ? `FAILED: the two compliance tables differ on ${complianceCross.differ.length} obligation(s)\n${formatReport(files, results, cross, true).split('\n').slice(1).join('\n')}`
              : formatReport(files, results, cross, ok),
            ...report.complianceSection(compliance, complianceCross),
          ].join('\n'),
        );
      if (!ok) process.exitCode = 1;
    });
}
