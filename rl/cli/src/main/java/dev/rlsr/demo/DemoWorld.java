// The small invented world of the demo: entities, attributes, places, facts and number ranges shared by the
// instruction dataset (DemoData) and the pretraining corpus (DemoCorpus), so both speak the same vocabulary.
package dev.rlsr.demo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Word lists and fact tables; every list is fixed, so generation depends only on the seed. */
final class DemoWorld {
  private DemoWorld() {}

  static final List<String> COLORS = List.of(
      "red", "brown", "gray", "white", "black", "green", "yellow", "blue", "pink", "golden", "silver", "orange");
  static final List<String> ANIMALS = List.of(
      "fox", "rabbit", "owl", "bear", "deer", "wolf", "frog", "duck", "cat", "dog", "horse", "goat", "mouse",
      "eagle", "turtle", "snake");
  static final List<String> PLACES = List.of(
      "forest", "river", "desert", "mountains", "meadow", "garden", "lake", "village", "field", "cave", "valley",
      "jungle");

  /** Fruit and the color it has when ripe. */
  static final Map<String, String> FRUIT_COLOR = ordered(
      "banana", "yellow", "lemon", "yellow", "apple", "red", "cherry", "red", "strawberry", "red", "lime", "green",
      "pear", "green", "blueberry", "blue", "plum", "purple", "grape", "purple", "orange", "orange",
      "coconut", "brown");

  /** Countable objects (plural forms). */
  static final List<String> OBJECTS = List.of(
      "apples", "books", "cups", "coins", "pencils", "eggs", "stones", "shells", "boxes", "cookies", "flowers",
      "candles", "balls", "hats");
  static final List<String> NAMES = List.of(
      "Anna", "Ben", "Maria", "Tom", "Lucy", "Omar", "Lena", "Sam", "Nora", "Leo", "Mia", "Ravi");
  static final List<String> CITIES = List.of(
      "Paris", "London", "Tokyo", "Cairo", "Oslo", "Rome", "Lima", "Sydney", "Berlin", "Madrid", "Delhi", "Toronto");
  static final List<String> SKIES = List.of("sunny", "rainy", "windy", "snowy", "cloudy", "foggy", "stormy");
  static final List<String> TEMPERATURES = List.of("warm", "cold", "hot", "cool", "mild", "freezing");

  /** Habitat and animals that live there (at least three each). */
  static final Map<String, List<String>> HABITAT_ANIMALS = new LinkedHashMap<>();

  static {
    HABITAT_ANIMALS.put("ocean", List.of("whale", "dolphin", "shark", "octopus", "crab", "seal"));
    HABITAT_ANIMALS.put("forest", List.of("fox", "owl", "deer", "bear", "squirrel", "wolf"));
    HABITAT_ANIMALS.put("desert", List.of("camel", "lizard", "scorpion", "snake"));
    HABITAT_ANIMALS.put("farm", List.of("cow", "pig", "goat", "sheep", "horse", "hen"));
    HABITAT_ANIMALS.put("jungle", List.of("monkey", "parrot", "tiger", "jaguar", "gorilla"));
    HABITAT_ANIMALS.put("Arctic", List.of("polar bear", "walrus", "seal", "arctic fox"));
    HABITAT_ANIMALS.put("river", List.of("otter", "beaver", "trout", "heron"));
    HABITAT_ANIMALS.put("pond", List.of("frog", "duck", "turtle", "dragonfly"));
  }

  /** Job and where it is done (the phrase follows "works"). */
  static final Map<String, String> JOB_PLACE = ordered(
      "baker", "in a bakery", "farmer", "on a farm", "doctor", "in a hospital", "teacher", "in a school",
      "chef", "in a restaurant", "sailor", "on a ship", "librarian", "in a library", "gardener", "in a garden",
      "painter", "in a studio", "pilot", "at an airport", "mechanic", "in a garage", "nurse", "in a clinic");

  static final List<String> ROOMS = List.of("kitchen", "bedroom", "garage", "attic", "hall", "basement");
  static final List<String> ACTIVITIES = List.of(
      "swim", "read", "sing", "run", "paint", "dance", "walk", "draw", "cook", "fish");
  static final List<String> LEISURE_PLACES = List.of(
      "park", "garden", "lake", "library", "kitchen", "yard", "forest", "city", "morning", "evening");

  /** Word and its opposite. */
  static final Map<String, String> OPPOSITES = ordered(
      "hot", "cold", "big", "small", "fast", "slow", "happy", "sad", "light", "dark", "up", "down", "old", "young",
      "early", "late", "full", "empty", "open", "closed", "wet", "dry", "loud", "quiet", "soft", "hard",
      "tall", "short", "strong", "weak", "rich", "poor");

  /** Things and their category: animal, fruit or tool. */
  static final Map<String, String> CATEGORY = ordered(
      "fox", "animal", "owl", "animal", "horse", "animal", "whale", "animal", "camel", "animal", "rabbit", "animal",
      "frog", "animal", "tiger", "animal", "banana", "fruit", "apple", "fruit", "pear", "fruit", "cherry", "fruit",
      "lemon", "fruit", "plum", "fruit", "grape", "fruit", "orange", "fruit", "hammer", "tool", "saw", "tool",
      "shovel", "tool", "wrench", "tool", "drill", "tool", "ladder", "tool", "axe", "tool", "rake", "tool");

  private static Map<String, String> ordered(String... kv) {
    LinkedHashMap<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  static <T> T pick(List<T> list, SplittableRandom rng) {
    return list.get(rng.nextInt(list.size()));
  }

  /** "a" or "an" before a word (by its first letter; enough for this vocabulary). */
  static String a(String word) {
    return "aeiou".indexOf(Character.toLowerCase(word.charAt(0))) >= 0 ? "an " + word : "a " + word;
  }

  static String capitalize(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /** English number words for counts shown in words (two, three). */
  static String countWord(int n) {
    return switch (n) {
      case 2 -> "two";
      case 3 -> "three";
      default -> Integer.toString(n);
    };
  }
}
