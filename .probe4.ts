import { MongoClient, MongoServerError } from 'mongodb';
const uri = process.env.U!;
const c = new MongoClient(uri); await c.connect();
const col = c.db('p4' + Date.now()).collection<{ _id: string; email?: string }>('t');
await col.createIndex({ email: 1 }, { unique: true, sparse: true });
await col.insertOne({ _id: '1', email: 'a' }); await col.insertOne({ _id: '2', email: 'b' });
for (const [label, f] of [['updateMany', () => col.updateMany({ _id: '2' }, { $set: { email: 'a' } })], ['updateOne', () => col.updateOne({ _id: '2' }, { $set: { email: 'a' } })], ['fam', () => col.findOneAndUpdate({ _id: '2' }, { $set: { email: 'a' } })], ['replace', () => col.replaceOne({ _id: '2' }, { email: 'a' })]] as const) {
  try { await f(); console.log(label, 'no error'); } catch (e) { const m = e as MongoServerError; console.log(label, m.constructor.name, m.code, m.codeName, JSON.stringify(m.errorResponse), m.message); }
}
await c.close();
