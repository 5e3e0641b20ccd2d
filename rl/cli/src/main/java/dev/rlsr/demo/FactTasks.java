// The demo's world-fact task families: a fruit's color, animals of a habitat, a word's opposite and a thing's
// category, answered from the facts DemoWorld holds.
package dev.rlsr.demo;

import static dev.rlsr.demo.DemoTasks.product;
import static dev.rlsr.demo.DemoWorld.a;
import static dev.rlsr.demo.DemoWorld.capitalize;
import static dev.rlsr.demo.DemoWorld.countWord;

import dev.rlsr.demo.DemoTasks.Family;
import dev.rlsr.demo.DemoTasks.Rendered;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

final class FactTasks {
  private FactTasks() {}

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
}
