from django.core.management.base import BaseCommand

from tadamun.demo.loader import load_demo


class Command(BaseCommand):
    help = "Load the demo (idempotent: running it again adds nothing that exists)."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=3000)

    def handle(self, *args, people, **options):
        counts = load_demo(people=people, progress=lambda m: self.stdout.write(m))
        self.stdout.write("Demo loaded: " + ", ".join(f"{k} +{v}" for k, v in counts.items()))
