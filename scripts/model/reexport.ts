// Re-exports an exported static model (table read back from its ONNX file) with other export
// options, e.g. the pooled-only graph; extra files (newsdedup.json, means, card) are copied.
//   npx tsx scripts/model/reexport.ts <from dir> <to dir> [--pooled-only] [--tokenizer-pipeline bert|regex] [--variants q8]
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readTable } from './postprocess.ts';
import { exportStaticModel } from './export.ts';
import { scriptArgs } from '../args.ts';

const { values, positionals } = scriptArgs(
  `Re-exports an exported static model with other export options (e.g. the pooled-only graph).

  npx tsx scripts/model/reexport.ts <from dir> <to dir> [--pooled-only] [--tokenizer-pipeline bert|regex] [--variants q8]`,
  { 'pooled-only': { type: 'boolean', default: false }, 'tokenizer-pipeline': { type: 'string', default: 'bert' }, variants: { type: 'string', default: 'q8' } },
  true,
  2,
);
const [from, to] = positionals;
const { rows, dim, vocab } = readTable(from!);
const cfg = JSON.parse(readFileSync(join(from!, 'config.json'), 'utf8')) as { _name_or_path: string; max_position_embeddings: number };
exportStaticModel({ outDir: to!, name: cfg._name_or_path, vocab, embeddings: rows, dim, maxLength: cfg.max_position_embeddings, variants: values.variants!.split(',') as ('fp32' | 'q8')[], lowercase: true, pooledOnly: values['pooled-only'], tokenizerPipeline: values['tokenizer-pipeline'] as 'bert' | 'regex' });
for (const f of readdirSync(from!)) if (!['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx'].includes(f) && !existsSync(join(to!, f))) copyFileSync(join(from!, f), join(to!, f));
console.log(`wrote ${to}`);
