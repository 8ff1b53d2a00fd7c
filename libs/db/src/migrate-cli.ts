import { defaultMigrationsDir, migrateDeploy } from './migrate';

// Stand-in for `prisma migrate deploy` where Prisma's schema engine cannot be downloaded.
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const { applied } = await migrateDeploy(url, process.argv[2] ?? defaultMigrationsDir());
  console.log(applied.length > 0 ? `Applied ${applied.join(', ')}` : 'No pending migrations to apply.');
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
