// The demo's instruction task families: each enumerates its slot combinations ("keys", the unit the held-out
// split withholds), renders an instruction and its reference response, and a plain statement for the corpus.
package dev.rlsr.rl.demo;

import static dev.rlsr.rl.demo.DemoWorld.a;
import static dev.rlsr.rl.demo.DemoWorld.capitalize;
import static dev.rlsr.rl.demo.DemoWorld.countWord;
import static dev.rlsr.rl.demo.DemoWorld.pick;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The twelve families; {@link #ALL} is their fixed order. */
final class DemoTasks {
  private DemoTasks() {}

  /** A prompt, its reference response and the prompt's slot values the response must repeat. */
  record Rendered(String prompt, String response, List<String> slots) {}

  /** One task family. Keys are lists of slot values; the other slots of an example are drawn from the rng. */
  interface Family {
    String name();

    List<List<String>> keys();

    Rendered make(List<String> key, SplittableRandom rng);

    /** A plain-text sentence about the same combination, as it could appear in ordinary prose. */
    String statement(List<String> key, SplittableRandom rng);
  }

  static final List<Family> ALL = List.of(
      new AnimalSentence(), new FruitColor(), new Addition(), new Subtraction(), new Weather(), new HabitatList(),
      new PersonJob(), new Compare(), new Opposite(), new OwnsItems(), new Category(), new LikesActivity());

  private static List<List<String>> product(List<String> a, List<String> b) {
    List<List<String>> out = new ArrayList<>();
    for (String x : a) {
      for (String y : b) {
        out.add(List.of(x, y));
      }
    }
    return out;
  }

  private static List<String> numbers(int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i <= to; i++) {
      out.add(Integer.toString(i));
    }
    return out;
  }

  private static String oneOf(SplittableRandom rng, String... options) {
    return options[rng.nextInt(options.length)];
  }

  /** "Write one sentence about a red fox that lives in the forest." Key: (color, animal). */
  static final class AnimalSentence implements Family {
    public String name() {
      return "animal_sentence";
    }

    public List<List<String>> keys() {
      return product(DemoWorld.COLORS, DemoWorld.ANIMALS);
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String color = k.get(0);
      String animal = k.get(1);
      String place = pick(DemoWorld.PLACES, rng);
      String prompt = switch (rng.nextInt(3)) {
        case 0 -> "Write one sentence about " + a(color) + " " + animal + " that lives in the " + place + ".";
        case 1 -> "Write a short sentence about " + a(color) + " " + animal + " living in the " + place + ".";
        default -> "Tell me in one sentence where the " + color + " " + animal + " lives: the " + place + ".";
      };
      return new Rendered(prompt, "The " + color + " " + animal + " lives in the " + place + ".",
          List.of(color, animal, place));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String place = pick(DemoWorld.PLACES, rng);
      return switch (rng.nextInt(4)) {
        case 0 -> "The " + k.get(0) + " " + k.get(1) + " lives in the " + place + ".";
        case 1 -> capitalize(a(k.get(0))) + " " + k.get(1) + " sleeps in the " + place + " at night.";
        case 2 -> "In the " + place + " there is " + a(k.get(0)) + " " + k.get(1) + ".";
        default -> "We saw " + a(k.get(0)) + " " + k.get(1) + " near the " + place + ".";
      };
    }
  }

  /** "What color is a ripe banana?" Key: (fruit, phrasing). */
  static final class FruitColor implements Family {
    public String name() {
      return "fruit_color";
    }

    public List<List<String>> keys() {
      return product(List.copyOf(DemoWorld.FRUIT_COLOR.keySet()), List.of("0", "1", "2"));
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String fruit = k.get(0);
      String prompt = switch (k.get(1)) {
        case "0" -> "What color is a ripe " + fruit + "?";
        case "1" -> "Tell me the color of a ripe " + fruit + ".";
        default -> "Which color does a ripe " + fruit + " have?";
      };
      return new Rendered(prompt, "A ripe " + fruit + " is " + DemoWorld.FRUIT_COLOR.get(fruit) + ".", List.of(fruit));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String fruit = k.get(0);
      String color = DemoWorld.FRUIT_COLOR.get(fruit);
      return switch (rng.nextInt(3)) {
        case 0 -> "A ripe " + fruit + " is " + color + ".";
        case 1 -> "The " + fruit + " turns " + color + " when it is ripe.";
        default -> "When " + a(fruit) + " is ripe, its color is " + color + ".";
      };
    }
  }

  /** "Add 3 apples and 4 apples. How many apples?" Key: (a, b), 2..9 each. */
  static final class Addition implements Family {
    public String name() {
      return "addition";
    }

    public List<List<String>> keys() {
      return product(numbers(2, 9), numbers(2, 9));
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      int x = Integer.parseInt(k.get(0));
      int y = Integer.parseInt(k.get(1));
      String obj = pick(DemoWorld.OBJECTS, rng);
      int sum = x + y;
      if (rng.nextBoolean()) {
        return new Rendered("Add " + x + " " + obj + " and " + y + " " + obj + ". How many " + obj + "?",
            "There are " + sum + " " + obj + ".", List.of(obj));
      }
      String name = pick(DemoWorld.NAMES, rng);
      return new Rendered(name + " has " + x + " " + obj + " and finds " + y + " more. How many " + obj + " does "
          + name + " have now?", name + " has " + sum + " " + obj + " now.", List.of(name, obj));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      int x = Integer.parseInt(k.get(0));
      int y = Integer.parseInt(k.get(1));
      String obj = pick(DemoWorld.OBJECTS, rng);
      String name = pick(DemoWorld.NAMES, rng);
      return switch (rng.nextInt(3)) {
        case 0 -> x + " " + obj + " and " + y + " " + obj + " make " + (x + y) + " " + obj + ".";
        case 1 -> name + " had " + x + " " + obj + " and found " + y + " more, so " + name + " has " + (x + y) + " "
            + obj + ".";
        default -> "There are " + (x + y) + " " + obj + " on the table.";
      };
    }
  }

  /** "Tom had 9 cups and gave 4 away. How many cups are left?" Key: (a, b) with 5 <= a <= 12, a - b >= 2. */
  static final class Subtraction implements Family {
    public String name() {
      return "subtraction";
    }

    public List<List<String>> keys() {
      List<List<String>> out = new ArrayList<>();
      for (int x = 5; x <= 12; x++) {
        for (int y = 1; y <= x - 2; y++) {
          out.add(List.of(Integer.toString(x), Integer.toString(y)));
        }
      }
      return out;
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      int x = Integer.parseInt(k.get(0));
      int y = Integer.parseInt(k.get(1));
      String obj = pick(DemoWorld.OBJECTS, rng);
      String name = pick(DemoWorld.NAMES, rng);
      return new Rendered(name + " had " + x + " " + obj + " and gave " + y + " away. How many " + obj + " are left?",
          name + " has " + (x - y) + " " + obj + " left.", List.of(name, obj));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      int x = Integer.parseInt(k.get(0));
      int y = Integer.parseInt(k.get(1));
      String obj = pick(DemoWorld.OBJECTS, rng);
      String name = pick(DemoWorld.NAMES, rng);
      return rng.nextBoolean()
          ? name + " had " + x + " " + obj + " and gave " + y + " away, so " + name + " has " + (x - y) + " " + obj
              + " left."
          : "If you take " + y + " from " + x + ", " + (x - y) + " are left.";
    }
  }

  /** "Describe the weather in Paris as sunny and warm." Key: (city, sky). */
  static final class Weather implements Family {
    public String name() {
      return "weather";
    }

    public List<List<String>> keys() {
      return product(DemoWorld.CITIES, DemoWorld.SKIES);
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String temp = pick(DemoWorld.TEMPERATURES, rng);
      if (rng.nextBoolean()) {
        return new Rendered("Describe the weather in " + k.get(0) + " as " + k.get(1) + " and " + temp + ".",
            "The weather in " + k.get(0) + " is " + k.get(1) + " and " + temp + ".", List.of(k.get(0), k.get(1), temp));
      }
      return new Rendered("Write a short weather report for " + k.get(0) + ": " + k.get(1) + " and " + temp + ".",
          "It is " + k.get(1) + " and " + temp + " in " + k.get(0) + " today.", List.of(k.get(0), k.get(1), temp));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String temp = pick(DemoWorld.TEMPERATURES, rng);
      return switch (rng.nextInt(3)) {
        case 0 -> "The weather in " + k.get(0) + " is " + k.get(1) + " and " + temp + ".";
        case 1 -> "Today it is " + k.get(1) + " and " + temp + " in " + k.get(0) + ".";
        default -> "Yesterday " + k.get(0) + " was " + k.get(1) + ", but the air was " + temp + ".";
      };
    }
  }

  /** "List two animals that live in the ocean." Key: (habitat, count 2 or 3). */
  static final class HabitatList implements Family {
    public String name() {
      return "habitat_list";
    }

    public List<List<String>> keys() {
      return product(List.copyOf(DemoWorld.HABITAT_ANIMALS.keySet()), List.of("2", "3"));
    }

    private static List<String> draw(String habitat, int n, SplittableRandom rng) {
      List<String> pool = new ArrayList<>(DemoWorld.HABITAT_ANIMALS.get(habitat));
      List<String> out = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        out.add(pool.remove(rng.nextInt(pool.size())));
      }
      return out;
    }

    private static String join(List<String> animals) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < animals.size(); i++) {
        sb.append(i == 0 ? "" : i == animals.size() - 1 ? " and " : ", ").append("the ").append(animals.get(i));
      }
      return sb.toString();
    }

    /** "on the farm", otherwise "in the ...". */
    private static String where(String habitat) {
      return (habitat.equals("farm") ? "on the " : "in the ") + habitat;
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String habitat = k.get(0);
      int n = Integer.parseInt(k.get(1));
      String count = countWord(n);
      String where = where(habitat);
      String prompt = switch (rng.nextInt(3)) {
        case 0 -> "List " + count + " animals that live " + where + ".";
        case 1 -> "Name " + count + " animals that live " + where + ".";
        default -> "Which " + count + " animals live " + where + "?";
      };
      return new Rendered(prompt, capitalize(join(draw(habitat, n, rng))) + " live " + where + ".", List.of(habitat));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String habitat = k.get(0);
      List<String> animals = draw(habitat, Integer.parseInt(k.get(1)), rng);
      return rng.nextBoolean()
          ? capitalize(join(animals)) + " live " + where(habitat) + "."
          : "The " + animals.get(0) + " lives " + where(habitat) + ".";
    }
  }

  /** "Write a sentence about Anna, who is a baker." Key: (name, job). */
  static final class PersonJob implements Family {
    public String name() {
      return "person_job";
    }

    public List<List<String>> keys() {
      return product(DemoWorld.NAMES, List.copyOf(DemoWorld.JOB_PLACE.keySet()));
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String prompt = rng.nextBoolean()
          ? "Write a sentence about " + k.get(0) + ", who is " + a(k.get(1)) + "."
          : "Say where " + k.get(0) + " the " + k.get(1) + " works.";
      return new Rendered(prompt, k.get(0) + " is " + a(k.get(1)) + " who works " + DemoWorld.JOB_PLACE.get(k.get(1))
          + ".", List.of(k.get(0), k.get(1)));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String where = DemoWorld.JOB_PLACE.get(k.get(1));
      return switch (rng.nextInt(3)) {
        case 0 -> k.get(0) + " is " + a(k.get(1)) + " who works " + where + ".";
        case 1 -> capitalize(a(k.get(1))) + " works " + where + ".";
        default -> "Every day " + k.get(0) + " the " + k.get(1) + " goes to work " + where + ".";
      };
    }
  }

  /** "Which number is larger, 12 or 7?" Key: (a, b, larger|smaller) over 1..20, a != b. */
  static final class Compare implements Family {
    public String name() {
      return "compare";
    }

    public List<List<String>> keys() {
      List<List<String>> out = new ArrayList<>();
      for (int x = 1; x <= 20; x++) {
        for (int y = 1; y <= 20; y++) {
          if (x != y) {
            out.add(List.of(Integer.toString(x), Integer.toString(y), "larger"));
            out.add(List.of(Integer.toString(x), Integer.toString(y), "smaller"));
          }
        }
      }
      return out;
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      int x = Integer.parseInt(k.get(0));
      int y = Integer.parseInt(k.get(1));
      int hi = Math.max(x, y);
      int lo = Math.min(x, y);
      boolean larger = k.get(2).equals("larger");
      return new Rendered("Which number is " + k.get(2) + ", " + x + " or " + y + "?",
          larger ? hi + " is larger than " + lo + "." : lo + " is smaller than " + hi + ".",
          List.of(k.get(0), k.get(1)));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      int x = Integer.parseInt(k.get(0));
      int y = Integer.parseInt(k.get(1));
      return k.get(2).equals("larger")
          ? Math.max(x, y) + " is larger than " + Math.min(x, y) + "."
          : Math.min(x, y) + " is smaller than " + Math.max(x, y) + ".";
    }
  }

  /** "What is the opposite of hot?" Key: (word, phrasing). */
  static final class Opposite implements Family {
    public String name() {
      return "opposite";
    }

    public List<List<String>> keys() {
      List<String> words = new ArrayList<>();
      DemoWorld.OPPOSITES.forEach((w, o) -> {
        words.add(w);
        words.add(o);
      });
      return product(words, List.of("0", "1"));
    }

    static String opposite(String w) {
      for (var e : DemoWorld.OPPOSITES.entrySet()) {
        if (e.getKey().equals(w)) {
          return e.getValue();
        }
        if (e.getValue().equals(w)) {
          return e.getKey();
        }
      }
      throw new IllegalArgumentException(w);
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String w = k.get(0);
      String prompt = k.get(1).equals("0")
          ? "What is the opposite of " + w + "?"
          : "Give the word that means the opposite of " + w + ".";
      return new Rendered(prompt, "The opposite of " + w + " is " + opposite(w) + ".", List.of(w));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String w = k.get(0);
      return rng.nextBoolean()
          ? "The opposite of " + w + " is " + opposite(w) + "."
          : capitalize(w) + " and " + opposite(w) + " are opposites.";
    }
  }

  /** "Write a sentence saying that Lena keeps 4 blue cups in the kitchen." Key: (name, color). */
  static final class OwnsItems implements Family {
    public String name() {
      return "owns_items";
    }

    public List<List<String>> keys() {
      return product(DemoWorld.NAMES, DemoWorld.COLORS);
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String n = Integer.toString(2 + rng.nextInt(9));
      String obj = pick(DemoWorld.OBJECTS, rng);
      String room = pick(DemoWorld.ROOMS, rng);
      return new Rendered("Write a sentence saying that " + k.get(0) + " keeps " + n + " " + k.get(1) + " " + obj
          + " in the " + room + ".", k.get(0) + " keeps " + n + " " + k.get(1) + " " + obj + " in the " + room + ".",
          List.of(k.get(0), n, k.get(1), obj, room));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      int n = 2 + rng.nextInt(9);
      String obj = pick(DemoWorld.OBJECTS, rng);
      return rng.nextBoolean()
          ? k.get(0) + " keeps " + n + " " + k.get(1) + " " + obj + " in the " + pick(DemoWorld.ROOMS, rng) + "."
          : k.get(0) + " has " + n + " " + k.get(1) + " " + obj + ".";
    }
  }

  /** "Is a hammer an animal, a fruit or a tool?" Key: (thing). */
  static final class Category implements Family {
    public String name() {
      return "category";
    }

    public List<List<String>> keys() {
      List<List<String>> out = new ArrayList<>();
      DemoWorld.CATEGORY.keySet().forEach(t -> out.add(List.of(t)));
      return out;
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String thing = k.get(0);
      String prompt = rng.nextBoolean()
          ? "Is " + a(thing) + " an animal, a fruit or a tool?"
          : "Say whether " + a(thing) + " is an animal, a fruit or a tool.";
      return new Rendered(prompt, capitalize(a(thing)) + " is " + a(DemoWorld.CATEGORY.get(thing)) + ".",
          List.of(thing));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String thing = k.get(0);
      return capitalize(a(thing)) + " is " + a(DemoWorld.CATEGORY.get(thing)) + ".";
    }
  }

  /** "Write a sentence about Omar, who likes to swim in the lake." Key: (name, activity). */
  static final class LikesActivity implements Family {
    public String name() {
      return "likes_activity";
    }

    public List<List<String>> keys() {
      return product(DemoWorld.NAMES, DemoWorld.ACTIVITIES);
    }

    private static String at(String place) {
      return "in the " + place;
    }

    public Rendered make(List<String> k, SplittableRandom rng) {
      String where = at(pick(DemoWorld.LEISURE_PLACES, rng));
      String prompt = rng.nextBoolean()
          ? "Write a sentence about " + k.get(0) + ", who likes to " + k.get(1) + " " + where + "."
          : "Tell me what " + k.get(0) + " likes to do " + where + ": " + k.get(1) + ".";
      return new Rendered(prompt, k.get(0) + " likes to " + k.get(1) + " " + where + ".",
          List.of(k.get(0), k.get(1), where.substring("in the ".length())));
    }

    public String statement(List<String> k, SplittableRandom rng) {
      String where = at(pick(DemoWorld.LEISURE_PLACES, rng));
      return rng.nextBoolean()
          ? k.get(0) + " likes to " + k.get(1) + " " + where + "."
          : oneOf(rng, "On Sundays ", "Every week ", "Often ") + k.get(0) + " goes out to " + k.get(1) + " " + where
              + ".";
    }
  }
}
