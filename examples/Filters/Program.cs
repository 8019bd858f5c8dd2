System.Console.WriteLine("Filters example: built below.");
