// The demo's sentence-writing task families: a sentence about an animal, the weather, a person's job, what someone
// keeps or likes to do, whose answer must repeat the named entities (and the slots drawn for the example).
package dev.rlsr.demo;

import static dev.rlsr.demo.DemoTasks.oneOf;
import static dev.rlsr.demo.DemoTasks.product;
import static dev.rlsr.demo.DemoWorld.a;
import static dev.rlsr.demo.DemoWorld.capitalize;
import static dev.rlsr.demo.DemoWorld.pick;

import dev.rlsr.demo.DemoTasks.Family;
import dev.rlsr.demo.DemoTasks.Rendered;
import java.util.List;
import java.util.SplittableRandom;

final class SentenceTasks {
  private SentenceTasks() {}

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
