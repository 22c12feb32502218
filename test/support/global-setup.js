// Says once, up front, when the MariaDB half of the suite will not run.
module.exports = async () => {
  if (!process.env.TEST_MYSQL_URL) {
    process.stderr.write(
      '\n[txedit] MariaDB/MySQL tests skipped: TEST_MYSQL_URL is not set (e.g. mysql://root@127.0.0.1:3306/test). Running on SQLite only.\n\n',
    );
  }
  if (!process.env.TEST_REDIS_URL) {
    process.stderr.write('[txedit] Redis tests skipped: TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379).\n\n');
  }
};
