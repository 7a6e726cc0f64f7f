import ExcelJS from 'exceljs';
import { writeFileSync, readFileSync } from 'node:fs';
const N = +process.argv[2];
if (process.argv[3] === 'make') {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sites');
  ws.addRow(['region','ip','name','description','asn','auth_key','resource_group_id','tags','tag:Env','tag:Owner']);
  for (let i = 0; i < N; i++) ws.addRow(['cn-hangzhou', `10.${(i>>16)&255}.${(i>>8)&255}.${i&255}`, `branch-${i}`, `Branch office number ${i} floor 2`, String(65000 + (i % 500)), '', '', `site=${i};team=net`, 'prod', 'netops']);
  const t = Date.now();
  await wb.xlsx.writeFile('/tmp/xl/big.xlsx');
  console.log('write ms', Date.now() - t);
} else {
  const t = Date.now();
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(readFileSync('/tmp/xl/big.xlsx'));
  const ws = wb.worksheets[0];
  let n = 0;
  ws.eachRow((r) => { r.eachCell(() => n++); });
  console.log('load ms', Date.now() - t, 'cells', n, 'rss MB', Math.round(process.memoryUsage().rss/1e6), 'heap', Math.round(process.memoryUsage().heapUsed/1e6));
}
