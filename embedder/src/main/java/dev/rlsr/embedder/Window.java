// One piece of one text as the encoder is fed it: token ids with the special tokens around them, and its weight.
package dev.rlsr.embedder;

/**
 * A window of text number {@code text}: its token ids and type ids, special tokens included, and its weight in the
 * text's average (its count of text tokens; 0 for a text that has nothing but special tokens).
 */
record Window(int text, long[] ids, long[] typeIds, int weight) {}
