// The demo's number task families: adding, taking away and comparing small numbers, with the objects and names
// the prompt mentions carried into the answer.
package dev.rlsr.demo;

import static dev.rlsr.demo.DemoTasks.numbers;
import static dev.rlsr.demo.DemoTasks.product;
import static dev.rlsr.demo.DemoWorld.pick;

import dev.rlsr.demo.DemoTasks.Family;
import dev.rlsr.demo.DemoTasks.Rendered;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

final class NumberTasks {
  private NumberTasks() {}

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
}
