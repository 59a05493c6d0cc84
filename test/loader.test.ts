// The sampler's order and sharding, and the DataLoader: worker threads give the same batches as
// the calling thread, a saved position resumes the same order, masks and labels come along.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { DataLoader, ImageArray, ImageFolder, epochBatches, epochIndices, openImages } from '../src/data/index.js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../src/transforms/index.js';
import { methodViews } from '../src/methods/index.js';
const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));

describe('sampler', () => {
  test('a seeded permutation per epoch: every image once, the same for the same (seed, epoch)', () => {
    const a = epochIndices(100, 0, { batchSize: 10, seed: 1 });
    assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(a, epochIndices(100, 0, { batchSize: 10, seed: 1 }));
    assert.notDeepEqual(a, epochIndices(100, 1, { batchSize: 10, seed: 1 }));
    assert.notDeepEqual(a, epochIndices(100, 0, { batchSize: 10, seed: 2 }));
    assert.deepEqual([...epochIndices(5, 0, { batchSize: 1, shuffle: false })], [0, 1, 2, 3, 4]);
  });
  test('ranks get disjoint equal shares (DistributedSampler); drop_last cuts, otherwise pads by wrapping', () => {
    const shares = [0, 1, 2].map((rank) => epochIndices(100, 4, { batchSize: 8, seed: 0, rank, worldSize: 3 }));
    assert.deepEqual(shares.map((s) => s.length), [33, 33, 33]);
    assert.equal(new Set(shares.flatMap((s) => [...s])).size, 99);
    const padded = [0, 1, 2].map((rank) => epochIndices(100, 4, { batchSize: 8, seed: 0, rank, worldSize: 3, dropLast: false }));
    assert.deepEqual(padded.map((s) => s.length), [34, 34, 34]);
    assert.equal(new Set(padded.flatMap((s) => [...s])).size, 100);
    assert.deepEqual(epochBatches(100, 0, { batchSize: 30 }).map((b) => b.length), [30, 30, 30]);
    assert.deepEqual(epochBatches(100, 0, { batchSize: 30, dropLast: false }).map((b) => b.length), [30, 30, 30, 10]);
  });
  test('impossible settings are refused with the setting named', () => {
    assert.throws(() => epochIndices(10, 0, { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
    assert.throws(() => epochIndices(10, 0, { batchSize: 2, rank: 2, worldSize: 2 }), /rank must be an integer in \[0, 2\)/);
    assert.throws(() => epochIndices(10, 0, { batchSize: 20 }), /batchSize 20 is larger than the 10 images/);
  });
});

describe('DataLoader', async () => {
  const images = await ImageFolder.scan(mini).load();
  const views = methodViews('simclr', { size: 32, normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } });
  const loaders: DataLoader[] = [];
  const open = (o: Partial<ConstructorParameters<typeof DataLoader>[1]> = {}, data: ImageArray = images) => {
    const loader = new DataLoader(data, { batchSize: 16, views, seed: 7, workers: 0, ...o });
    loaders.push(loader);
    return loader;
  };
  after(() => Promise.all(loaders.map((l) => l.close())));

  const take = async (loader: DataLoader, count: number) => {
    const out: { epoch: number; batch: number; indices: number[]; sums: number[]; labels: number[] }[] = [];
    for (let i = 0; i < count; i++) {
      const b = await loader.next();
      out.push({ epoch: b.epoch, batch: b.batch, indices: [...b.indices], sums: b.views.map((v) => v.sum().item()), labels: b.labels!.toArray() as number[] });
      for (const v of b.views) v.dispose();
      b.labels?.dispose();
    }
    return out;
  };

  test('batches of two normalised float views with labels; epochs roll over (40 images: 2 batches of 16)', async () => {
    const loader = open();
    assert.equal(loader.batchesPerEpoch, 2);
    const b = await loader.next();
    assert.deepEqual(b.views.map((v) => [v.dtype, ...v.shape]), [['float32', 16, 3, 32, 32], ['float32', 16, 3, 32, 32]]);
    assert.deepEqual(b.labels!.toArray(), [...b.indices].map((i) => images.labels![i]));
    assert.ok(!b.views[0].equal(b.views[1]), 'two different views');
    const mean = b.views[0].mean().item();
    assert.ok(Math.abs(mean) < 0.6, `normalised: mean ${mean}`);
    const rest = await take(loader, 3);
    assert.deepEqual(rest.map((r) => [r.epoch, r.batch]), [[0, 1], [1, 0], [1, 1]]);
    let epochs = 0;
    for await (const batch of loader.epoch()) { epochs++; assert.equal(batch.epoch, 2); }
    assert.equal(epochs, 2);
  });

  test('worker threads make exactly the batches the calling thread makes', async () => {
    const inline = await take(open({ workers: 0 }), 5);
    const threaded = await take(open({ workers: 2, prefetch: 3 }), 5);
    assert.deepEqual(threaded, inline);
  });

  test('channels_last batches (for channels_last ResNets) hold the same values, laid out NHWC, from workers and the calling thread', async () => {
    for (const workers of [0, 1]) {
      const [plain, nhwc] = [open({ workers }), open({ workers, memoryFormat: 'channels_last' })];
      for (let i = 0; i < 2; i++) {
        const [a, b] = [await plain.next(), await nhwc.next()];
        b.views.forEach((v, k) => {
          assert.deepEqual(v.shape, a.views[k].shape);
          assert.ok(v.isContiguous('channels_last') && !v.isContiguous(), `workers ${workers}: view ${k} is NHWC`);
          assert.ok(v.equal(a.views[k]), `workers ${workers}: view ${k} has the same values`);
        });
        for (const t of [...a.views, ...b.views, a.labels, b.labels]) t?.dispose();
      }
    }
  });

  test('a saved position resumes the same order and augmentations', async () => {
    const straight = await take(open({ workers: 1 }), 6);
    const first = open({ workers: 1 });
    await take(first, 3);
    const saved = first.position;
    assert.deepEqual(saved, { epoch: 1, batch: 1 });
    const resumed = open({ workers: 1 });
    resumed.seek(saved);
    assert.deepEqual(await take(resumed, 3), straight.slice(3));
    assert.throws(() => resumed.seek({ epoch: -1, batch: 0 }), /seek: expected \{ epoch, batch \}/);
  });

  test('masks for masked image modelling; grayscale images become RGB views', async () => {
    const mae = open({ views: methodViews('mae', { size: 32 }), batchSize: 8 });
    const b = await mae.next();
    assert.deepEqual([b.mask!.dtype, ...b.mask!.shape], ['bool', 8, 64]);
    assert.deepEqual(b.mask!.sum(1).toArray(), Array(8).fill(48));
    const grey = new ImageArray(images.pixels.slice(0, 40 * 1024), 1, 32, 32, null);
    const g = await open({ views: methodViews('simclr', { size: 32, domain: 'grayscale' }) }, grey).next();
    assert.deepEqual(g.views[0].shape, [16, 3, 32, 32]);
    assert.equal(g.labels, null);
  });

  test('close() ends the workers even when finished batches are still unread', async () => {
    const loader = new DataLoader(images, { batchSize: 16, views, seed: 7, workers: 1, prefetch: 2 });
    await loader.next();
    const until = Date.now() + 300;
    while (Date.now() < until); // a synchronous training step: the worker's replies wait in the queue
    await loader.close();
    await assert.rejects(loader.next(), /next\(\) after close\(\)/);
  });

  test('bad options are refused before any work', () => {
    assert.throws(() => open({ batchSize: 64 }), /batchSize 64 is larger than the 40 images/);
    assert.throws(() => open({ workers: -1 }), /workers must be a whole number from 0 to \d+/);
    assert.throws(() => open({ views: { views: [{ size: 32, horizontalFlip: 2 }] } }), /views\[0\].horizontalFlip must be a probability/);
  });
});

describe('openImages', () => {
  test('Fashion-MNIST from Debian (installed by the setup step): 60000 + 10000 grey 28x28 images', async () => {
    const train = await openImages('fashion-mnist');
    assert.deepEqual([train.length, train.channels, train.height, train.width], [60000, 1, 28, 28]);
    const test = await openImages('fashion-mnist:test');
    assert.equal(test.length, 10000);
    assert.deepEqual(new Set(test.labels).size, 10);
  });
  test('folders, and clear errors for missing paths and splits', async () => {
    assert.equal((await openImages(mini)).length, 40);
    await assert.rejects(openImages('cifar10:/no/such/dir'), /cifar10:\/no\/such\/dir: no such folder \/no\/such\/dir/);
    await assert.rejects(openImages('mnist:/tmp:unlabeled'), /only stl10 has an unlabeled split/);
    await assert.rejects(openImages('/no/such/images'), /no such folder or file \(expected a folder of images/);
  });
});
