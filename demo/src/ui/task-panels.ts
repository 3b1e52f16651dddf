// Which cards the page shows for the model's task: a classifier gets the accuracy chart, the
// predicted test digits and the confusion matrix; the autoencoder, which has no classes, gets its
// reconstructions in their place. `data-task` on <main> lets styles and tests see the choice.

import type { ModelTask } from '../protocol.js';

export interface TaskCards {
  main: HTMLElement;
  /** Shown for classifiers only. */
  classify: HTMLElement[];
  /** Shown for reconstruction models only. */
  reconstruct: HTMLElement[];
}

export function showTaskCards(cards: TaskCards, task: ModelTask): void {
  cards.main.dataset.task = task;
  for (const el of cards.classify) el.hidden = task !== 'classify';
  for (const el of cards.reconstruct) el.hidden = task !== 'reconstruct';
}
